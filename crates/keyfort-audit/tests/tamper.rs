//! Tamper each way and see it caught: in a store (records and digests as
//! stored) and in an export verified with only the pinned public key.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyfort_audit::*;

const T0: i64 = 1_795_899_600_000;

fn event(i: u64) -> Vec<u8> {
    let identity = UserIdentity {
        identity_type: Some("IAMUser".into()),
        principal_id: Some("AIDAEXAMPLE".into()),
        arn: Some("arn:aws:iam::111122223333:user/alice".into()),
        account_id: Some("111122223333".into()),
        access_key_id: Some("AKIAEXAMPLE".into()),
        user_name: Some("alice".into()),
        invoked_by: None,
        session_context: None,
    };
    let mut e = Event::kms_api_call(
        identity,
        T0 + i as i64 * 1000,
        "Encrypt",
        "us-east-1",
        "111122223333",
        format!("req-{i}"),
        eid(i),
    );
    e.user_agent = "aws-cli/2.17".into();
    e.source_ip_address = "192.0.2.10".into();
    e.request_parameters = serde_json::json!({"keyId": "alias/app", "encryptionContext": {"n": i}});
    e.resources = vec![Resource::kms_key(
        "111122223333",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )];
    e.to_json().unwrap()
}

fn eid(i: u64) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// A chain of `n` records with a digest after every `every` records.
struct Trail {
    key: AuditSigningKey,
    public: Vec<u8>,
    records: Vec<ChainedRecord>,
    digests: Vec<Digest>,
    head: ChainHead,
}

impl Trail {
    fn new(n: u64, every: u64) -> Self {
        let key = AuditSigningKey::generate().unwrap();
        let public = key.public_key_der().unwrap();
        let mut t = Trail {
            key,
            public,
            records: Vec::new(),
            digests: Vec::new(),
            head: ChainHead::GENESIS,
        };
        for i in 1..=n {
            t.append(i);
            if i % every == 0 {
                t.sign();
            }
        }
        t
    }

    fn append(&mut self, i: u64) {
        let (r, h) = link(&self.head, event(i));
        self.records.push(r);
        self.head = h;
    }

    fn sign(&mut self) {
        let u = UnsignedDigest::next(self.digests.last(), &self.head, T0 + 100_000);
        self.digests.push(self.key.sign_digest(u).unwrap());
    }

    fn verify(&self) -> VerifyReport {
        verify_chain(
            self.records.clone(),
            &self.digests,
            Some(&self.public),
            None,
        )
    }

    /// Index in `records` of seq `s`.
    fn at(&self, s: u64) -> usize {
        self.records.iter().position(|r| r.seq == s).unwrap()
    }
}

fn failed_with(report: &VerifyReport, expected: &[Problem]) {
    assert!(!report.ok, "{report}");
    assert_eq!(report.problems, expected, "{report}");
}

#[test]
fn clean_chain_verifies() {
    let t = Trail::new(12, 4);
    let report = t.verify();
    assert!(report.ok, "{report}");
    assert!(report.problems.is_empty(), "{report}");
    assert_eq!((report.records_checked, report.digests_checked), (12, 3));
    assert_eq!(report.to_string(), "OK: 12 records, 3 digests verified");
}

#[test]
fn editing_one_byte_is_reported_as_edited() {
    let mut t = Trail::new(12, 4);
    let i = t.at(6);
    let pos = t.records[i]
        .event
        .windows(3)
        .position(|w| w == b"cli")
        .unwrap();
    t.records[i].event[pos] = b'C';
    let report = t.verify();
    failed_with(
        &report,
        &[Problem::Edited {
            seq: 6,
            event_id: Some(eid(6)),
        }],
    );
    assert!(
        report
            .to_string()
            .starts_with("FAILED: 1 problems in 12 records, 3 digests\n")
    );
    assert!(report.to_string().contains(&format!(
        "record 6 (event {}): hash does not match its content (edited)",
        eid(6)
    )));
}

#[test]
fn editing_with_recomputed_hash_is_caught_by_the_next_link() {
    let mut t = Trail::new(12, 4);
    let i = t.at(6);
    let r = &mut t.records[i];
    r.event = event(99);
    r.hash = record_hash(r.seq, &r.prev_hash, &r.event);
    failed_with(
        &t.verify(),
        &[Problem::BrokenLink {
            seq: 7,
            event_id: Some(eid(7)),
            prev_seq: 6,
        }],
    );
    // ... and when the last record a digest covers is rewritten, by the digest.
    let mut t = Trail::new(12, 4);
    let i = t.at(8);
    let r = &mut t.records[i];
    r.event = event(99);
    r.hash = record_hash(r.seq, &r.prev_hash, &r.event);
    failed_with(
        &t.verify(),
        &[
            Problem::BrokenLink {
                seq: 9,
                event_id: Some(eid(9)),
                prev_seq: 8,
            },
            Problem::DigestMismatch {
                digest_seq: 2,
                last_seq: 8,
            },
        ],
    );
}

#[test]
fn removing_a_record_is_reported_as_a_gap() {
    let mut t = Trail::new(12, 4);
    t.records.remove(t.at(6));
    failed_with(
        &t.verify(),
        &[Problem::Missing {
            first_seq: 6,
            last_seq: 6,
        }],
    );
    // Several, including the one a digest vouches for.
    t.records.retain(|r| !(7..=8).contains(&r.seq));
    let report = t.verify();
    failed_with(
        &report,
        &[Problem::Missing {
            first_seq: 6,
            last_seq: 8,
        }],
    );
    assert!(
        report
            .to_string()
            .contains("records 6..=8: missing (removed)")
    );
}

#[test]
fn swapping_two_records_is_reported_as_reordered() {
    let mut t = Trail::new(12, 4);
    let (a, b) = (t.at(6), t.at(7));
    t.records.swap(a, b);
    let report = t.verify();
    failed_with(
        &report,
        &[Problem::OutOfOrder {
            seq: 6,
            event_id: Some(eid(6)),
            after_seq: 7,
        }],
    );
    assert!(
        report
            .to_string()
            .contains("out of order, found after record 7 (reordered)")
    );
}

#[test]
fn moving_a_record_far_is_reported_once() {
    let mut t = Trail::new(3000, 1000);
    let r = t.records.remove(t.at(2));
    let to = t.at(2500);
    t.records.insert(to, r);
    failed_with(
        &t.verify(),
        &[Problem::OutOfOrder {
            seq: 2,
            event_id: Some(eid(2)),
            after_seq: 2499,
        }],
    );
}

#[test]
fn swapping_contents_and_relinking_is_caught_by_the_digest() {
    // The attacker keeps seq order but swaps two events and recomputes
    // every hash and link up to the end: only the signatures stand in the way.
    let mut t = Trail::new(12, 4);
    let (a, b) = (t.at(6), t.at(7));
    let ea = t.records[a].event.clone();
    t.records[a].event = t.records[b].event.clone();
    t.records[b].event = ea;
    relink_from(&mut t.records, a);
    failed_with(
        &t.verify(),
        &[
            Problem::DigestMismatch {
                digest_seq: 2,
                last_seq: 8,
            },
            Problem::DigestMismatch {
                digest_seq: 3,
                last_seq: 12,
            },
        ],
    );
}

/// Recomputes prev_hash and hash from index `from` onward.
fn relink_from(records: &mut [ChainedRecord], from: usize) {
    for i in from..records.len() {
        let prev = if i == 0 { [0; 32] } else { records[i - 1].hash };
        let r = &mut records[i];
        r.prev_hash = prev;
        r.hash = record_hash(r.seq, &r.prev_hash, &r.event);
    }
}

#[test]
fn inserting_a_forged_record_is_caught_by_the_next_link_and_the_digest() {
    let mut t = Trail::new(12, 4);
    let i = t.at(6);
    let prev = t.records[i - 1].hash;
    let forged = ChainedRecord {
        seq: 6,
        event: event(99),
        prev_hash: prev,
        hash: record_hash(6, &prev, &event(99)),
    };
    // Renumber what follows, recomputing each record's own hash.
    for r in &mut t.records[i..] {
        r.seq += 1;
        r.hash = record_hash(r.seq, &r.prev_hash, &r.event);
    }
    t.records.insert(i, forged);
    let report = t.verify();
    assert!(!report.ok);
    let p = &report.problems;
    assert!(
        p.contains(&Problem::BrokenLink {
            seq: 7,
            event_id: Some(eid(6)),
            prev_seq: 6
        }),
        "{report}"
    );
    assert!(
        p.contains(&Problem::DigestMismatch {
            digest_seq: 2,
            last_seq: 8
        }),
        "{report}"
    );
    assert!(
        p.contains(&Problem::DigestMismatch {
            digest_seq: 3,
            last_seq: 12
        }),
        "{report}"
    );

    // Relinking everything after it too leaves only the digests to object.
    relink_from(&mut t.records, i + 1);
    let report = t.verify();
    assert!(!report.ok);
    assert!(
        report.problems.iter().all(|p| matches!(
            p,
            Problem::DigestMismatch { .. } | Problem::UnsignedTail { .. }
        )),
        "{report}"
    );
    assert!(report.problems.contains(&Problem::DigestMismatch {
        digest_seq: 2,
        last_seq: 8
    }));

    // A second record under an existing seq is an insertion too.
    let mut t = Trail::new(12, 4);
    let i = t.at(6);
    let prev = t.records[i - 1].hash;
    let forged = ChainedRecord {
        seq: 6,
        event: event(99),
        prev_hash: prev,
        hash: record_hash(6, &prev, &event(99)),
    };
    t.records.insert(i, forged);
    failed_with(
        &t.verify(),
        &[Problem::Duplicate {
            seq: 6,
            event_id: Some(eid(6)),
        }],
    );
}

#[test]
fn truncating_a_signed_tail_is_removal_and_an_unsigned_tail_a_warning() {
    let mut t = Trail::new(12, 4);
    t.append(13);
    t.append(14);
    let report = t.verify();
    assert!(report.ok, "{report}");
    assert_eq!(
        report.problems,
        [Problem::UnsignedTail {
            first_seq: 13,
            last_seq: 14
        }]
    );
    assert_eq!(
        report.to_string(),
        "OK: 14 records, 3 digests verified\n\
         warning: records 13..=14 are not covered by a signed digest yet"
    );

    t.records.truncate(t.at(10));
    failed_with(
        &t.verify(),
        &[Problem::Missing {
            first_seq: 10,
            last_seq: 12,
        }],
    );
    t.records.clear();
    failed_with(
        &t.verify(),
        &[Problem::Missing {
            first_seq: 1,
            last_seq: 12,
        }],
    );
}

#[test]
fn a_digest_signed_with_another_key_fails() {
    let mut t = Trail::new(12, 4);
    let mallory = AuditSigningKey::generate().unwrap();
    let forged = mallory.sign_digest(t.digests[1].unsigned()).unwrap();
    t.digests[1] = forged;
    failed_with(
        &t.verify(),
        &[
            Problem::BadSignature { digest_seq: 2 },
            Problem::DigestLink {
                digest_seq: 3,
                kind: DigestBreak::SignatureHash {
                    previous_digest_seq: 2,
                },
            },
        ],
    );
    // Rewriting history and signing a fresh digest chain with a new key fails
    // on every digest under the pinned key.
    let mut t = Trail::new(12, 4);
    t.records[5].event = event(99);
    relink_from(&mut t.records, 5);
    let mut digests: Vec<Digest> = Vec::new();
    for d in &t.digests {
        let head = t.records[t.at(d.last_seq)].next_head();
        let u = UnsignedDigest::next(digests.last(), &head, d.created_ms);
        digests.push(mallory.sign_digest(u).unwrap());
    }
    let report = verify_chain(t.records.clone(), &digests, Some(&t.public), None);
    assert_eq!(report.problems.len(), 4, "{report}");
    assert!((1..=3).all(|s| {
        report
            .problems
            .contains(&Problem::BadSignature { digest_seq: s })
    }));
    assert!(report.problems.contains(&Problem::UnsignedTail {
        first_seq: 1,
        last_seq: 12
    }));
    assert!(!report.ok);
}

#[test]
fn altered_digest_fields_fail() {
    let t = Trail::new(12, 4);
    for field in 0..7 {
        let mut digests = t.digests.clone();
        let d = &mut digests[1];
        match field {
            0 => d.digest_seq = 7,
            1 => d.first_seq = 4,
            2 => d.last_seq = 7,
            3 => d.last_hash = t.records[6].hash,
            4 => d.previous_digest_signature_hash = [1; 32],
            5 => d.created_ms += 1,
            _ => d.signature[8] ^= 0x40,
        }
        let report = verify_chain(t.records.clone(), &digests, Some(&t.public), None);
        assert!(!report.ok, "field {field}: {report}");
        assert!(
            report.problems.contains(&Problem::BadSignature {
                digest_seq: digests[1].digest_seq
            }),
            "field {field}: {report}"
        );
    }
}

#[test]
fn removed_or_reordered_digests_break_the_digest_chain() {
    let mut t = Trail::new(12, 4);
    t.digests.remove(1);
    failed_with(
        &t.verify(),
        &[Problem::DigestLink {
            digest_seq: 3,
            kind: DigestBreak::Sequence {
                previous_digest_seq: 1,
            },
        }],
    );
    let mut t = Trail::new(12, 4);
    t.digests.remove(0);
    failed_with(
        &t.verify(),
        &[Problem::DigestLink {
            digest_seq: 2,
            kind: DigestBreak::NotFirst,
        }],
    );
}

#[test]
fn without_a_key_the_chain_is_still_checked() {
    let mut t = Trail::new(12, 4);
    let report = verify_chain(t.records.clone(), &t.digests, None, None);
    assert!(report.ok);
    assert_eq!(report.problems, [Problem::SignaturesNotChecked]);
    t.records.remove(3);
    let report = verify_chain(t.records.clone(), &t.digests, None, None);
    assert!(report.problems.contains(&Problem::Missing {
        first_seq: 4,
        last_seq: 4
    }));
}

/// The store after pruning records 1..=8 (up to digest 2), keeping digests.
fn pruned() -> (Trail, ChainHead) {
    let mut t = Trail::new(16, 4);
    let d = t.digests[1].clone();
    t.records.retain(|r| r.seq > d.last_seq);
    (
        t,
        ChainHead {
            seq: d.last_seq + 1,
            hash: d.last_hash,
        },
    )
}

#[test]
fn a_suffix_verifies_from_its_start_head() {
    let (t, start) = pruned();
    let report = verify_chain(t.records.clone(), &t.digests, Some(&t.public), Some(start));
    assert!(report.ok && report.problems.is_empty(), "{report}");
    // Digests before the start may be pruned too.
    let report = verify_chain(
        t.records.clone(),
        &t.digests[2..],
        Some(&t.public),
        Some(start),
    );
    assert!(report.ok && report.problems.is_empty(), "{report}");
    // From genesis, the pruned prefix is missing.
    let report = verify_chain(t.records.clone(), &t.digests, Some(&t.public), None);
    assert_eq!(
        report.problems,
        [Problem::Missing {
            first_seq: 1,
            last_seq: 8
        }],
        "{report}"
    );
}

#[test]
fn a_suffix_detects_the_same_tampering() {
    let (t, start) = pruned();
    let verify = |records: Vec<ChainedRecord>| {
        verify_chain(records, &t.digests, Some(&t.public), Some(start))
    };
    let mut edited = t.records.clone();
    edited[1].event[20] ^= 1;
    failed_with(
        &verify(edited),
        &[Problem::Edited {
            seq: 10,
            event_id: Some(eid(10)),
        }],
    );

    let mut removed = t.records.clone();
    removed.remove(1);
    failed_with(
        &verify(removed),
        &[Problem::Missing {
            first_seq: 10,
            last_seq: 10,
        }],
    );

    let mut first_removed = t.records.clone();
    first_removed.remove(0);
    failed_with(
        &verify(first_removed),
        &[Problem::Missing {
            first_seq: 9,
            last_seq: 9,
        }],
    );

    let mut swapped = t.records.clone();
    swapped.swap(1, 2);
    failed_with(
        &verify(swapped),
        &[Problem::OutOfOrder {
            seq: 10,
            event_id: Some(eid(10)),
            after_seq: 11,
        }],
    );

    let mut truncated = t.records.clone();
    truncated.truncate(5);
    failed_with(
        &verify(truncated),
        &[Problem::Missing {
            first_seq: 14,
            last_seq: 16,
        }],
    );

    let mut before = t.records.clone();
    before.insert(
        0,
        link(
            &ChainHead {
                seq: 8,
                hash: [3; 32],
            },
            event(99),
        )
        .0,
    );
    failed_with(
        &verify(before),
        &[Problem::BeforeStart {
            seq: 8,
            event_id: Some(eid(99)),
        }],
    );

    // A forged start head: the first link and the digest that attests it object.
    let forged = ChainHead {
        seq: start.seq,
        hash: [7; 32],
    };
    let report = verify_chain(t.records.clone(), &t.digests, Some(&t.public), Some(forged));
    failed_with(
        &report,
        &[
            Problem::BrokenLink {
                seq: 9,
                event_id: Some(eid(9)),
                prev_seq: 8,
            },
            Problem::DigestMismatch {
                digest_seq: 2,
                last_seq: 8,
            },
        ],
    );
}

#[test]
fn streaming_verifier_matches_verify_chain() {
    let mut t = Trail::new(12, 4);
    t.records.remove(4);
    let mut v = Verifier::new(&t.digests, Some(&t.public), None);
    for r in &t.records {
        v.push(r);
    }
    assert_eq!(v.finish(), t.verify());
}

fn export_text(t: &Trail, start: ChainHead, records: &[ChainedRecord]) -> String {
    let header = Header {
        public_key: t.public.clone(),
        start_head: start,
    };
    let mut out = Vec::new();
    write_export(&mut out, &header, records, &t.digests).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn export_round_trips_byte_identically_and_verifies_with_the_pinned_key() {
    let mut t = Trail::new(12, 4);
    t.append(13);
    let text = export_text(&t, ChainHead::GENESIS, &t.records);
    assert_eq!(text.lines().count(), 1 + 13 + 3);

    let (header, records, digests) = read_export(text.as_bytes()).unwrap();
    assert_eq!(header.public_key, t.public);
    assert_eq!(records, t.records);
    assert_eq!(digests, t.digests);
    let again = export_text(&t, header.start_head, &records);
    assert_eq!(again, text);

    let report = verify_export(text.as_bytes(), &t.public).unwrap();
    assert!(report.ok, "{report}");
    assert_eq!(
        report.problems,
        [Problem::UnsignedTail {
            first_seq: 13,
            last_seq: 13
        }]
    );

    // A suffix export carries its start head.
    let (p, start) = pruned();
    let text = export_text(&p, start, &p.records);
    let report = verify_export(text.as_bytes(), &p.public).unwrap();
    assert!(report.ok && report.problems.is_empty(), "{report}");
}

#[test]
fn tampering_with_an_export_is_found_with_only_the_public_key() {
    let t = Trail::new(12, 4);
    let text = export_text(&t, ChainHead::GENESIS, &t.records);
    let lines: Vec<&str> = text.lines().collect();
    let rejoin = |ls: Vec<String>| ls.join("\n");
    let check = |tampered: String, expected: &[Problem]| {
        let report = verify_export(tampered.as_bytes(), &t.public).unwrap();
        failed_with(&report, expected);
    };
    let line_of = |seq: u64| {
        lines
            .iter()
            .position(|l| l.starts_with(&format!(r#"{{"type":"record","seq":{seq},"#)))
            .unwrap()
    };

    // One character of an event.
    let mut ls: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    ls[line_of(6)] = ls[line_of(6)].replace("aws-cli/2.17", "aws-cli/2.18");
    check(
        rejoin(ls),
        &[Problem::Edited {
            seq: 6,
            event_id: Some(eid(6)),
        }],
    );

    // A line deleted.
    let mut ls: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    ls.remove(line_of(6));
    check(
        rejoin(ls),
        &[Problem::Missing {
            first_seq: 6,
            last_seq: 6,
        }],
    );

    // Two lines swapped.
    let mut ls: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    ls.swap(line_of(6), line_of(7));
    check(
        rejoin(ls),
        &[Problem::OutOfOrder {
            seq: 6,
            event_id: Some(eid(6)),
            after_seq: 7,
        }],
    );

    // The tail cut after digest 2's records (digest 3 kept).
    let mut ls: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    ls.retain(|l| !(9..=12).any(|s| l.starts_with(&format!(r#"{{"type":"record","seq":{s},"#))));
    check(
        rejoin(ls),
        &[Problem::Missing {
            first_seq: 9,
            last_seq: 12,
        }],
    );

    // Everything re-signed with the attacker's key, which the header names.
    let mallory = AuditSigningKey::generate().unwrap();
    let mut records = t.records.clone();
    records[5].event = event(99);
    relink_from(&mut records, 5);
    let mut digests: Vec<Digest> = Vec::new();
    for d in &t.digests {
        let head = records[(d.last_seq - 1) as usize].next_head();
        let u = UnsignedDigest::next(digests.last(), &head, d.created_ms);
        digests.push(mallory.sign_digest(u).unwrap());
    }
    let header = Header {
        public_key: mallory.public_key_der().unwrap(),
        start_head: ChainHead::GENESIS,
    };
    let mut out = Vec::new();
    write_export(&mut out, &header, &records, &digests).unwrap();
    let report = verify_export(&out[..], &t.public).unwrap();
    assert!(!report.ok);
    assert!(
        report
            .problems
            .contains(&Problem::BadSignature { digest_seq: 1 })
    );
    assert!(report.problems.contains(&Problem::ExportKeyDiffers));
}
