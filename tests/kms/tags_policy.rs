use aws_sdk_kms::types::Tag;

use crate::assert_code;
use crate::common::TestServer;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().unwrap()
}

#[tokio::test]
async fn tags_add_overwrite_remove_and_list() {
    let s = TestServer::start().await;
    let c = s.client();
    let id = c
        .create_key()
        .tags(tag("a", "1"))
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    c.tag_resource()
        .key_id(&id)
        .tags(tag("b", "2"))
        .tags(tag("a", "one"))
        .send()
        .await
        .unwrap();
    let t = c.list_resource_tags().key_id(&id).send().await.unwrap();
    let pairs: Vec<(&str, &str)> = t
        .tags()
        .iter()
        .map(|t| (t.tag_key(), t.tag_value()))
        .collect();
    assert_eq!(pairs, [("a", "one"), ("b", "2")]);
    let p1 = c
        .list_resource_tags()
        .key_id(&id)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert!(p1.truncated());
    let p2 = c
        .list_resource_tags()
        .key_id(&id)
        .limit(1)
        .marker(p1.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(p2.tags()[0].tag_key(), "b");
    c.untag_resource()
        .key_id(&id)
        .tag_keys("a")
        .tag_keys("zzz")
        .send()
        .await
        .unwrap();
    let t = c.list_resource_tags().key_id(&id).send().await.unwrap();
    assert_eq!(t.tags().len(), 1);
    assert_code!(
        c.tag_resource()
            .key_id(&id)
            .tags(tag("aws:reserved", "x"))
            .send()
            .await,
        "TagException"
    );
    assert_code!(
        c.tag_resource()
            .key_id(&id)
            .tags(tag(&"k".repeat(129), "x"))
            .send()
            .await,
        "ValidationException"
    );
    let mut many = c.tag_resource().key_id(&id);
    for i in 0..50 {
        many = many.tags(tag(&format!("t{i}"), "v"));
    }
    assert_code!(many.send().await, "TagException");
    assert_code!(
        c.list_resource_tags()
            .key_id(&id)
            .marker("nope")
            .send()
            .await,
        "InvalidMarkerException"
    );
    s.stop().await;
}

#[tokio::test]
async fn key_policy_default_put_get_list() {
    let s = TestServer::start().await;
    let c = s.client();
    let id = c
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    let p = c.get_key_policy().key_id(&id).send().await.unwrap();
    assert_eq!(p.policy_name(), Some("default"));
    let doc: serde_json::Value = serde_json::from_str(p.policy().unwrap()).unwrap();
    assert_eq!(
        doc["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111122223333:root"
    );
    assert_eq!(doc["Statement"][0]["Action"], "kms:*");
    let names = c.list_key_policies().key_id(&id).send().await.unwrap();
    assert_eq!(names.policy_names(), ["default"]);
    let new = r#"{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
    c.put_key_policy()
        .key_id(&id)
        .policy(new)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_key_policy()
            .key_id(&id)
            .send()
            .await
            .unwrap()
            .policy(),
        Some(new)
    );
    assert_code!(
        c.put_key_policy().key_id(&id).policy("{}").send().await,
        "MalformedPolicyDocumentException"
    );
    assert_code!(
        c.put_key_policy().key_id(&id).policy("[1]").send().await,
        "MalformedPolicyDocumentException"
    );
    assert_code!(
        c.get_key_policy()
            .key_id(&id)
            .policy_name("other")
            .send()
            .await,
        "NotFoundException"
    );
    let created = c.create_key().policy(new).send().await.unwrap();
    let got = c
        .get_key_policy()
        .key_id(created.key_metadata().unwrap().key_id())
        .send()
        .await
        .unwrap();
    assert_eq!(got.policy(), Some(new));
    s.stop().await;
}
