//! Published test vectors: the AWS SigV4 test suite, the AWS documentation's
//! IAM `ListUsers` example, and signatures computed with botocore.

use crate::*;

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_DATE: &str = "20150830T123600Z";
const SUITE_UNIX: u64 = 1_440_938_160;

use crate::tests_suite_cases::CASES;

fn suite_authorization(signed: &[&str], signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20150830/us-east-1/service/aws4_request, \
         SignedHeaders={}, Signature={signature}",
        signed.join(";")
    )
}

#[test]
fn suite_canonical_requests() {
    for case in CASES {
        let creq = canonical_request(&case.request(), &case.signed());
        assert_eq!(creq.as_deref(), Ok(case.creq), "{}", case.name);
    }
}

#[test]
fn suite_signatures_verify() {
    let key = derive_signing_key(SECRET.as_bytes(), "20150830", "us-east-1", "service");
    let mut checked = 0;
    for case in CASES.iter().filter(|c| !c.signature.is_empty()) {
        let header = suite_authorization(&case.signed(), case.signature);
        let auth = parse_authorization(&header).unwrap();
        assert_eq!(
            check_time(SUITE_DATE, auth.credential.date, SUITE_UNIX, 900),
            Ok(())
        );
        assert_eq!(
            verify(&key, &case.request(), &auth, SUITE_DATE),
            Ok(()),
            "{}",
            case.name
        );
        checked += 1;
    }
    assert_eq!(checked, 29);
}

#[test]
fn suite_strings_to_sign() {
    for (name, hash) in [
        (
            "get-vanilla",
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        ),
        (
            "get-vanilla-query-order-key-case",
            "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
        ),
        (
            "get-header-value-trim",
            "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
        ),
        (
            "post-x-www-form-urlencoded",
            "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
        ),
    ] {
        let case = CASES.iter().find(|c| c.name == name).unwrap();
        let creq = canonical_request(&case.request(), &case.signed()).unwrap();
        let sts = string_to_sign(SUITE_DATE, "20150830/us-east-1/service/aws4_request", &creq);
        assert_eq!(
            sts,
            format!(
                "AWS4-HMAC-SHA256\n{SUITE_DATE}\n20150830/us-east-1/service/aws4_request\n{hash}"
            ),
            "{name}"
        );
    }
}

#[test]
fn suite_signatures_match_sign() {
    // sign() signs every header it is given, so feeding it a case's request
    // minus what sign() adds itself must reproduce the suite's signature.
    for case in CASES.iter().filter(|c| !c.signature.is_empty()) {
        let token = case
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-security-token"))
            .map(|(_, v)| std::str::from_utf8(v).unwrap());
        let params = SignParams {
            access_key_id: ACCESS_KEY,
            secret_access_key: SECRET,
            session_token: token,
            region: "us-east-1",
            service: "service",
            unix_time: parse_amz_date(case.amz_date()).unwrap(),
        };
        let added = sign(&params, &case.request()).unwrap();
        assert_eq!(
            added[0],
            (
                "authorization".to_owned(),
                suite_authorization(&case.signed(), case.signature)
            ),
            "{}",
            case.name
        );
        assert_eq!(added[1], ("x-amz-date".to_owned(), SUITE_DATE.to_owned()));
        assert_eq!(added.len(), 2 + usize::from(token.is_some()));
    }
}

#[test]
fn payload_hash_is_the_body_not_the_header() {
    // post-x-www-form-urlencoded signs X-Amz-Content-SHA256; a different body
    // under the same header must not verify.
    let case = CASES
        .iter()
        .find(|c| c.name == "post-x-www-form-urlencoded")
        .unwrap();
    let key = derive_signing_key(SECRET.as_bytes(), "20150830", "us-east-1", "service");
    let header = suite_authorization(&case.signed(), case.signature);
    let auth = parse_authorization(&header).unwrap();
    let tampered = Request {
        body: b"Param1=value2",
        ..case.request()
    };
    assert_eq!(
        verify(&key, &tampered, &auth, SUITE_DATE),
        Err(Error::Mismatch)
    );
}

const IAM_HEADERS: &[(&str, &[u8])] = &[
    ("Host", b"iam.amazonaws.com"),
    (
        "Content-Type",
        b"application/x-www-form-urlencoded; charset=utf-8",
    ),
    ("X-Amz-Date", b"20150830T123600Z"),
];

fn iam_request() -> Request<'static> {
    Request {
        method: "GET",
        path: "/",
        query: "Action=ListUsers&Version=2010-05-08",
        headers: IAM_HEADERS,
        body: b"",
    }
}

const IAM_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
    SignedHeaders=content-type;host;x-amz-date, \
    Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

#[test]
fn aws_docs_iam_listusers_example() {
    let auth = parse_authorization(IAM_AUTHORIZATION).unwrap();
    let creq = canonical_request(&iam_request(), &auth.signed_headers).unwrap();
    assert_eq!(
        creq,
        "GET\n/\nAction=ListUsers&Version=2010-05-08\n\
         content-type:application/x-www-form-urlencoded; charset=utf-8\n\
         host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
         content-type;host;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let sts = string_to_sign(SUITE_DATE, "20150830/us-east-1/iam/aws4_request", &creq);
    assert_eq!(
        sts,
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
         f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    );
    let key = derive_signing_key(SECRET.as_bytes(), "20150830", "us-east-1", "iam");
    assert_eq!(verify(&key, &iam_request(), &auth, SUITE_DATE), Ok(()));

    let headers_without_date = &IAM_HEADERS[..2];
    let params = SignParams {
        access_key_id: ACCESS_KEY,
        secret_access_key: SECRET,
        session_token: None,
        region: "us-east-1",
        service: "iam",
        unix_time: SUITE_UNIX,
    };
    let req = Request {
        headers: headers_without_date,
        ..iam_request()
    };
    let added = sign(&params, &req).unwrap();
    assert_eq!(added[0].1, IAM_AUTHORIZATION);
}

#[test]
fn every_single_bit_flip_of_the_signature_is_a_mismatch() {
    let mut auth = parse_authorization(IAM_AUTHORIZATION).unwrap();
    let key = derive_signing_key(SECRET.as_bytes(), "20150830", "us-east-1", "iam");
    for bit in 0..256 {
        auth.signature[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            verify(&key, &iam_request(), &auth, SUITE_DATE),
            Err(Error::Mismatch),
            "bit {bit}"
        );
        auth.signature[bit / 8] ^= 1 << (bit % 8);
    }
    assert_eq!(verify(&key, &iam_request(), &auth, SUITE_DATE), Ok(()));
}

#[test]
fn any_change_to_the_request_is_a_mismatch() {
    let auth = parse_authorization(IAM_AUTHORIZATION).unwrap();
    let key = derive_signing_key(SECRET.as_bytes(), "20150830", "us-east-1", "iam");
    let base = iam_request();
    let other_host: &[(&str, &[u8])] = &[
        ("Host", b"iam.amazonaws.com:444"),
        IAM_HEADERS[1],
        IAM_HEADERS[2],
    ];
    let extra_value: &[(&str, &[u8])] = &[
        IAM_HEADERS[0],
        IAM_HEADERS[1],
        IAM_HEADERS[2],
        ("host", b"evil.example"),
    ];
    let unsigned_extra: &[(&str, &[u8])] = &[
        IAM_HEADERS[0],
        IAM_HEADERS[1],
        IAM_HEADERS[2],
        ("x-unsigned", b"anything"),
    ];
    for (what, req) in [
        (
            "method",
            Request {
                method: "POST",
                ..base
            },
        ),
        ("path", Request { path: "/x", ..base }),
        (
            "query",
            Request {
                query: "Action=ListUsers&Version=2010-05-09",
                ..base
            },
        ),
        ("body", Request { body: b"x", ..base }),
        (
            "host",
            Request {
                headers: other_host,
                ..base
            },
        ),
        (
            "repeated host",
            Request {
                headers: extra_value,
                ..base
            },
        ),
    ] {
        assert_eq!(
            verify(&key, &req, &auth, SUITE_DATE),
            Err(Error::Mismatch),
            "{what}"
        );
    }
    // Headers that are not signed do not matter.
    let req = Request {
        headers: unsigned_extra,
        ..base
    };
    assert_eq!(verify(&key, &req, &auth, SUITE_DATE), Ok(()));
    // Another date in the string to sign, another key, another scope.
    assert_eq!(
        verify(&key, &base, &auth, "20150830T123601Z"),
        Err(Error::Mismatch)
    );
    let wrong_key = derive_signing_key(b"not the secret", "20150830", "us-east-1", "iam");
    assert_eq!(
        verify(&wrong_key, &base, &auth, SUITE_DATE),
        Err(Error::Mismatch)
    );
    let mut other_region = auth.clone();
    other_region.credential.region = "us-east-2";
    assert_eq!(
        verify(&key, &base, &other_region, SUITE_DATE),
        Err(Error::Mismatch)
    );
}

#[test]
fn missing_signed_header_is_malformed() {
    let auth = parse_authorization(IAM_AUTHORIZATION).unwrap();
    let key = derive_signing_key(SECRET.as_bytes(), "20150830", "us-east-1", "iam");
    let req = Request {
        headers: &IAM_HEADERS[1..],
        ..iam_request()
    };
    let err = verify(&key, &req, &auth, SUITE_DATE).unwrap_err();
    assert_eq!(err, Malformed::SignedHeaderAbsent("host".into()).into());
    assert_eq!(err.aws_code(), "IncompleteSignatureException");
}

const KMS_BODY: &[u8] = br#"{"KeyId":"alias/test","Plaintext":"aGVsbG8="}"#;

/// Expected values computed with botocore 1.43: `SigV4Auth(Credentials(
/// "AKIDEXAMPLE", SECRET, token), "kms", region).add_auth(AWSRequest("POST",
/// url, data=body, headers={Content-Type, X-Amz-Target}))` with
/// `botocore.auth.get_current_datetime` patched to the signing time.
#[test]
fn sign_matches_botocore_for_kms() {
    let headers: &[(&str, &[u8])] = &[
        ("Content-Type", b"application/x-amz-json-1.1"),
        ("X-Amz-Target", b"TrentService.Encrypt"),
        ("host", b"kms.us-east-1.amazonaws.com"),
    ];
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body: KMS_BODY,
    };
    let unix = parse_amz_date("20240517T093001Z").unwrap();
    let mut params = SignParams {
        access_key_id: ACCESS_KEY,
        secret_access_key: SECRET,
        session_token: None,
        region: "us-east-1",
        service: "kms",
        unix_time: unix,
    };
    let added = sign(&params, &req).unwrap();
    assert_eq!(
        added,
        [
            (
                "authorization".to_owned(),
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240517/us-east-1/kms/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
                 Signature=2ad3e63eaf4f69b5321c3df781086a341c43410a8c9c498523528f8589f9c5da"
                    .to_owned()
            ),
            ("x-amz-date".to_owned(), "20240517T093001Z".to_owned()),
        ]
    );

    params.session_token = Some("FQoGZXIvYXdzEXAMPLETOKEN//////////");
    let added = sign(&params, &req).unwrap();
    assert!(added[0].1.ends_with(
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
         Signature=aea2a3afcc7e48c268f89fd9a6d7d946ff7fd9283bca1e099a191e40f9dfa5c3"
    ));
    assert_eq!(
        added[2],
        (
            "x-amz-security-token".to_owned(),
            "FQoGZXIvYXdzEXAMPLETOKEN//////////".to_owned()
        )
    );

    // A local endpoint with a port, another region.
    let headers: &[(&str, &[u8])] = &[
        ("Host", b"localhost:8443"),
        ("Content-Type", b"application/x-amz-json-1.1"),
        ("X-Amz-Target", b"TrentService.ListKeys"),
    ];
    let req = Request {
        headers,
        body: b"{}",
        ..req
    };
    let params = SignParams {
        session_token: None,
        region: "eu-west-3",
        unix_time: SUITE_UNIX,
        ..params
    };
    let added = sign(&params, &req).unwrap();
    assert!(
        added[0].1.ends_with(
            "Signature=32fc0029e98c27a5731bb0f34149efe9e8b59e487b17ad66afff0ce30949dc29"
        )
    );
}

#[test]
fn sign_output_verifies_like_a_server_would() {
    let token = "session/token+value==";
    let params = SignParams {
        access_key_id: "ASIAEXAMPLE",
        secret_access_key: SECRET,
        session_token: Some(token),
        region: "ap-southeast-2",
        service: "kms",
        unix_time: 1_700_000_000,
    };
    let headers: &[(&str, &[u8])] = &[
        ("Host", b"kms.example:443"),
        ("Content-Type", b"application/x-amz-json-1.1"),
        ("X-Amz-Target", b"TrentService.Decrypt"),
        ("Authorization", b"stale, ignored"),
    ];
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body: KMS_BODY,
    };
    let added = sign(&params, &req).unwrap();

    // What the server sees: the original headers plus the added ones.
    let mut wire: Vec<(&str, &[u8])> = headers[..3].to_vec();
    wire.extend(added.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
    let received = Request {
        headers: &wire,
        ..req
    };
    let auth = parse_authorization(&added[0].1).unwrap();
    assert_eq!(auth.credential.access_key_id, "ASIAEXAMPLE");
    assert!(auth.credential.check_service("kms").is_ok());
    let amz_date = &added[1].1;
    assert_eq!(
        check_time(
            amz_date,
            auth.credential.date,
            1_700_000_000 + 900,
            DEFAULT_MAX_SKEW_SECS
        ),
        Ok(())
    );
    let key = derive_signing_key(
        SECRET.as_bytes(),
        auth.credential.date,
        auth.credential.region,
        auth.credential.service,
    );
    assert_eq!(verify(&key, &received, &auth, amz_date), Ok(()));

    // The token is signed: swapping it breaks the signature.
    for (name, value) in wire.iter_mut() {
        if *name == "x-amz-security-token" {
            *value = b"another-token";
        }
    }
    let received = Request {
        headers: &wire,
        ..req
    };
    assert_eq!(
        verify(&key, &received, &auth, amz_date),
        Err(Error::Mismatch)
    );
}

#[test]
fn sign_requires_host_and_valid_names() {
    let params = SignParams {
        access_key_id: ACCESS_KEY,
        secret_access_key: SECRET,
        session_token: None,
        region: "us-east-1",
        service: "kms",
        unix_time: SUITE_UNIX,
    };
    let no_host: &[(&str, &[u8])] = &[("content-type", b"x")];
    let bad_name: &[(&str, &[u8])] = &[("host", b"h"), ("bad name", b"x")];
    let base = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: no_host,
        body: b"",
    };
    assert_eq!(sign(&params, &base), Err(Malformed::HostNotSigned.into()));
    let req = Request {
        headers: bad_name,
        ..base
    };
    assert!(matches!(
        sign(&params, &req),
        Err(Error::Malformed(Malformed::SignedHeaders(_)))
    ));
    let shown = format!("{params:?}");
    assert!(!shown.contains(SECRET));
}
