//! Property-style checks: no input, however mangled, makes the parsers or
//! the verifier panic, and no mangled request verifies.

use crate::*;

/// xorshift64*: a small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const VALID: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
    SignedHeaders=content-type;host;x-amz-date, \
    Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

/// Characters that matter to the grammar, plus some that must never appear.
const ALPHABET: &[char] = &[
    ' ', '\t', ',', '=', '/', ';', '%', '.', '-', '_', 'A', 'a', 'z', '0', '9', 'f', 'g', 'é', 'ሴ',
    '\u{0}', '\n', '\u{7f}', '+', '?', '&',
];

fn mutate(rng: &mut Rng, base: &str) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 if at < chars.len() => chars[at] = rng.pick(ALPHABET),
            2 => chars.insert(at, rng.pick(ALPHABET)),
            _ => chars.truncate(at),
        }
    }
    chars.into_iter().collect()
}

fn random_string(rng: &mut Rng, max_len: usize) -> String {
    (0..rng.below(max_len + 1))
        .map(|_| rng.pick(ALPHABET))
        .collect()
}

#[test]
fn authorization_parser_survives_every_truncation_and_mutation() {
    for end in (0..=VALID.len()).filter(|&i| VALID.is_char_boundary(i)) {
        let parsed = parse_authorization(&VALID[..end]);
        assert_eq!(parsed.is_ok(), end == VALID.len(), "cut at {end}");
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let input = mutate(&mut rng, VALID);
        if let Ok(auth) = parse_authorization(&input) {
            accepted += 1;
            // Whatever parses satisfies the documented invariants.
            assert!(auth.signed_headers.windows(2).all(|w| w[0] < w[1]));
            assert!(auth.signed_headers.contains(&"host"));
            assert_eq!(auth.credential.date.len(), 8);
        }
        let _ = parse_authorization(&random_string(&mut rng, 64));
    }
    // Some mutations are harmless (e.g. extra spaces, hex case): the loop
    // really exercises both outcomes.
    assert!(accepted > 0);
}

#[test]
fn date_functions_survive_random_input() {
    let mut rng = Rng(42);
    let valid = "20150830T123600Z";
    for _ in 0..20_000 {
        let input = mutate(&mut rng, valid);
        if let Ok(t) = parse_amz_date(&input) {
            assert_eq!(format_amz_date(t), input);
        }
        let now = rng.next() >> rng.below(64);
        let skew = rng.next() >> rng.below(64);
        if let Err(e) = check_time(&input, input.get(..8).unwrap_or(""), now, skew) {
            let _ = e.to_string();
        }
        let t = rng.next() % 253_402_300_800;
        assert_eq!(parse_amz_date(&format_amz_date(t)), Ok(t));
    }
    let e = Error::Expired {
        request_unix: u64::MAX,
        now_unix: 0,
        max_skew_secs: u64::MAX,
    };
    let _ = e.to_string();
}

#[test]
fn verifier_never_panics_and_never_accepts_mangled_requests() {
    let key = derive_signing_key(b"secret", "20150830", "us-east-1", "kms");
    let mut rng = Rng(7);
    let names = ["host", "x-amz-date", "content-type", "x-amz-target", "my-h"];
    for _ in 0..5_000 {
        let path = format!("/{}", random_string(&mut rng, 24));
        let query = random_string(&mut rng, 24);
        let values: Vec<Vec<u8>> = (0..4)
            .map(|_| (0..rng.below(12)).map(|_| rng.next() as u8).collect())
            .collect();
        let headers: Vec<(&str, &[u8])> = (0..rng.below(6))
            .map(|i| (rng.pick(&names), values[i % 4].as_slice()))
            .collect();
        let req = Request {
            method: "POST",
            path: &path,
            query: &query,
            headers: &headers,
            body: &values[0],
        };
        let mut signed: Vec<&str> = (0..rng.below(4)).map(|_| rng.pick(&names)).collect();
        if rng.below(2) == 0 {
            signed.sort_unstable();
            signed.dedup();
        }
        let _ = canonical_request(&req, &signed);
        let auth = Authorization {
            credential: Credential {
                access_key_id: "AKID",
                date: "20150830",
                region: "us-east-1",
                service: "kms",
            },
            signed_headers: signed,
            signature: [rng.next() as u8; 32],
        };
        assert_ne!(verify(&key, &req, &auth, "20150830T123600Z"), Ok(()));
    }
}

#[test]
fn signing_random_requests_round_trips() {
    let mut rng = Rng(0xdead_beef);
    for _ in 0..500 {
        let path = format!("/{}", random_string(&mut rng, 16));
        let query = random_string(&mut rng, 16);
        let value = random_string(&mut rng, 16);
        let body = random_string(&mut rng, 32);
        let headers: [(&str, &[u8]); 3] = [
            ("Host", b"kms.local"),
            ("X-Amz-Target", value.as_bytes()),
            ("x-amz-target", b" second  value "),
        ];
        let req = Request {
            method: "POST",
            path: &path,
            query: &query,
            headers: &headers,
            body: body.as_bytes(),
        };
        let params = SignParams {
            access_key_id: "AKID",
            secret_access_key: "s3cret",
            session_token: None,
            region: "us-east-1",
            service: "kms",
            unix_time: rng.next() % 4_000_000_000,
        };
        let added = sign(&params, &req).unwrap();
        let mut wire = headers.to_vec();
        wire.extend(added.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
        let received = Request {
            headers: &wire,
            ..req
        };
        let auth = parse_authorization(&added[0].1).unwrap();
        let key = derive_signing_key(b"s3cret", auth.credential.date, "us-east-1", "kms");
        assert_eq!(
            verify(&key, &received, &auth, &added[1].1),
            Ok(()),
            "{req:?}"
        );
    }
}
