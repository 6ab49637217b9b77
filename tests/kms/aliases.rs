use aws_sdk_kms::primitives::Blob;

use crate::assert_code;
use crate::common::TestServer;

#[tokio::test]
async fn aliases_name_keys_everywhere() {
    let s = TestServer::start().await;
    let c = s.client();
    let a = c
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    let b = c
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    c.create_alias()
        .alias_name("alias/app")
        .target_key_id(&a)
        .send()
        .await
        .unwrap();
    c.create_alias()
        .alias_name("alias/app/second_1")
        .target_key_id(format!("arn:aws:kms:us-east-1:111122223333:key/{a}"))
        .send()
        .await
        .unwrap();
    for name in ["alias/app", "arn:aws:kms:us-east-1:111122223333:alias/app"] {
        let e = c
            .encrypt()
            .key_id(name)
            .plaintext(Blob::new(b"hi".to_vec()))
            .send()
            .await
            .unwrap();
        assert!(e.key_id().unwrap().ends_with(&a));
        let d = c
            .decrypt()
            .key_id(name)
            .ciphertext_blob(e.ciphertext_blob().unwrap().clone())
            .send()
            .await
            .unwrap();
        assert_eq!(d.plaintext().unwrap().as_ref(), b"hi");
        assert_eq!(
            c.describe_key()
                .key_id(name)
                .send()
                .await
                .unwrap()
                .key_metadata()
                .unwrap()
                .key_id(),
            a
        );
    }
    assert_code!(
        c.create_alias()
            .alias_name("alias/app")
            .target_key_id(&b)
            .send()
            .await,
        "AlreadyExistsException"
    );
    assert_code!(
        c.create_alias()
            .alias_name("alias/aws/s3")
            .target_key_id(&b)
            .send()
            .await,
        "InvalidAliasNameException"
    );
    assert_code!(
        c.create_alias()
            .alias_name("app")
            .target_key_id(&b)
            .send()
            .await,
        "InvalidAliasNameException"
    );
    assert_code!(
        c.create_alias()
            .alias_name("alias/bad name")
            .target_key_id(&b)
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.create_alias()
            .alias_name("alias/x")
            .target_key_id("alias/app")
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.create_alias()
            .alias_name("alias/x")
            .target_key_id("11111111-2222-3333-4444-555555555555")
            .send()
            .await,
        "NotFoundException"
    );
    assert_code!(
        c.encrypt()
            .key_id("alias/missing")
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await,
        "NotFoundException"
    );

    // Listing: all, per key, paginated.
    let all = c.list_aliases().send().await.unwrap();
    let names: Vec<&str> = all
        .aliases()
        .iter()
        .map(|a| a.alias_name().unwrap())
        .collect();
    assert_eq!(names, ["alias/app", "alias/app/second_1"]);
    let entry = &all.aliases()[0];
    assert_eq!(
        entry.alias_arn(),
        Some("arn:aws:kms:us-east-1:111122223333:alias/app")
    );
    assert_eq!(entry.target_key_id(), Some(a.as_str()));
    assert!(entry.creation_date().is_some() && entry.last_updated_date().is_some());
    let p1 = c.list_aliases().limit(1).send().await.unwrap();
    assert!(p1.truncated());
    let p2 = c
        .list_aliases()
        .limit(1)
        .marker(p1.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(p2.aliases()[0].alias_name(), Some("alias/app/second_1"));
    assert!(!p2.truncated());
    assert!(
        c.list_aliases()
            .key_id(&b)
            .send()
            .await
            .unwrap()
            .aliases()
            .is_empty()
    );
    assert_eq!(
        c.list_aliases()
            .key_id(&a)
            .send()
            .await
            .unwrap()
            .aliases()
            .len(),
        2
    );
    assert_code!(
        c.list_aliases()
            .key_id("11111111-2222-3333-4444-555555555555")
            .send()
            .await,
        "NotFoundException"
    );

    // UpdateAlias moves it; DeleteAlias removes it.
    c.update_alias()
        .alias_name("alias/app")
        .target_key_id(&b)
        .send()
        .await
        .unwrap();
    let e = c
        .encrypt()
        .key_id("alias/app")
        .plaintext(Blob::new(b"hi".to_vec()))
        .send()
        .await
        .unwrap();
    assert!(e.key_id().unwrap().ends_with(&b));
    assert_code!(
        c.update_alias()
            .alias_name("alias/nope")
            .target_key_id(&b)
            .send()
            .await,
        "NotFoundException"
    );
    c.delete_alias()
        .alias_name("alias/app")
        .send()
        .await
        .unwrap();
    assert_code!(
        c.delete_alias().alias_name("alias/app").send().await,
        "NotFoundException"
    );
    assert_code!(
        c.describe_key().key_id("alias/app").send().await,
        "NotFoundException"
    );
    // Aliases are per region.
    assert_code!(
        s.client_in("eu-west-1")
            .describe_key()
            .key_id("alias/app/second_1")
            .send()
            .await,
        "NotFoundException"
    );
    s.stop().await;
}
