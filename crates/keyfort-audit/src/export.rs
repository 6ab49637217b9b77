//! The JSON Lines export.
//!
//! ```text
//! {"type":"header","format":"keyfort-audit-export-v1","publicKey":"<base64 SPKI DER>","startHead":{"seq":1,"hash":"<64 hex>"}}
//! {"type":"record","seq":1,"prevHash":"<64 hex>","hash":"<64 hex>","eventJson":"{\"eventVersion\":\"1.11\",...}"}
//! {"type":"digest","digestSeq":1,"firstSeq":1,"lastSeq":1,"lastHash":"<64 hex>","previousDigestSignatureHash":"<64 hex>","createdMs":1795899600000,"signature":"<base64 DER>"}
//! ```
//!
//! The header comes first; records and digests follow in any order
//! ([`write_export`] puts each digest right after the last record it covers).
//!
//! The event is a JSON *string* holding the stored bytes, not a nested
//! object. The record hash covers those exact bytes, and a parsed object
//! does not remember them: re-serializing can reorder keys, re-space, change
//! escapes (`\u00e9` vs `é`) and number spellings (`1.0` vs `1`), or drop a
//! duplicate key, and every such change breaks the hash. A JSON string
//! decodes back to exactly the UTF-8 it encoded. It also leaves a SIEM one
//! thing to read: a line carrying both an object and the bytes could show the
//! SIEM an edited object while the verifier checks the untouched bytes.
//! Consumers parse `eventJson` as CloudTrail's `CloudTrailEvent` is parsed.
//! Should stored bytes ever not be UTF-8 (a damaged store), the record
//! carries `"eventBase64"` instead, so that the damage is exported verbatim.
//!
//! `publicKey` in the header is informational: verify with the key you have
//! pinned ([`verify_export`]), never with the one the file names.

use std::io::{BufRead, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::Value;

use crate::chain::{ChainHead, ChainedRecord};
use crate::digest::Digest;
use crate::error::{Error, ExportError};
use crate::hex;
use crate::verify::{Problem, VerifyReport, verify_chain};

/// The `format` of the header line.
pub const EXPORT_FORMAT: &str = "keyfort-audit-export-v1";

/// The first line of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The audit signing key's SPKI DER, as the exporter knew it.
    pub public_key: Vec<u8>,
    /// The head the exported records continue from ([`ChainHead::GENESIS`]
    /// for a full export).
    pub start_head: ChainHead,
}

/// The header line (no trailing newline).
#[must_use]
pub fn write_header_line(header: &Header) -> String {
    format!(
        r#"{{"type":"header","format":"{EXPORT_FORMAT}","publicKey":"{}","startHead":{{"seq":{},"hash":"{}"}}}}"#,
        B64.encode(&header.public_key),
        header.start_head.seq,
        hex::encode(&header.start_head.hash),
    )
}

/// A record line (no trailing newline).
#[must_use]
pub fn write_record_line(record: &ChainedRecord) -> String {
    let event = match core::str::from_utf8(&record.event) {
        Ok(text) => format!(r#""eventJson":{}"#, Value::String(text.to_owned())),
        Err(_) => format!(r#""eventBase64":"{}""#, B64.encode(&record.event)),
    };
    format!(
        r#"{{"type":"record","seq":{},"prevHash":"{}","hash":"{}",{event}}}"#,
        record.seq,
        hex::encode(&record.prev_hash),
        hex::encode(&record.hash),
    )
}

/// A digest line (no trailing newline).
#[must_use]
pub fn write_digest_line(digest: &Digest) -> String {
    format!(
        concat!(
            r#"{{"type":"digest","digestSeq":{},"firstSeq":{},"lastSeq":{},"lastHash":"{}","#,
            r#""previousDigestSignatureHash":"{}","createdMs":{},"signature":"{}"}}"#
        ),
        digest.digest_seq,
        digest.first_seq,
        digest.last_seq,
        hex::encode(&digest.last_hash),
        hex::encode(&digest.previous_digest_signature_hash),
        digest.created_ms,
        B64.encode(&digest.signature),
    )
}

/// Writes a whole export: the header, then the records in the order given,
/// each digest right after the records up to its `last_seq`.
///
/// # Errors
///
/// Whatever `out` returns.
pub fn write_export<'r>(
    mut out: impl Write,
    header: &Header,
    records: impl IntoIterator<Item = &'r ChainedRecord>,
    digests: &[Digest],
) -> std::io::Result<()> {
    writeln!(out, "{}", write_header_line(header))?;
    let mut next_digest = digests.iter().peekable();
    for r in records {
        while let Some(d) = next_digest.next_if(|d| d.last_seq < r.seq) {
            writeln!(out, "{}", write_digest_line(d))?;
        }
        writeln!(out, "{}", write_record_line(r))?;
    }
    for d in next_digest {
        writeln!(out, "{}", write_digest_line(d))?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line {
    Header(HeaderLine),
    Record(RecordLine),
    Digest(DigestLine),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HeaderLine {
    format: String,
    public_key: String,
    start_head: HeadLine,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadLine {
    seq: u64,
    hash: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RecordLine {
    seq: u64,
    prev_hash: String,
    hash: String,
    event_json: Option<String>,
    event_base64: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DigestLine {
    digest_seq: u64,
    first_seq: u64,
    last_seq: u64,
    last_hash: String,
    previous_digest_signature_hash: String,
    created_ms: i64,
    signature: String,
}

fn hash32(text: &str, field: &'static str) -> Result<[u8; 32], ExportError> {
    hex::decode32(text).ok_or(ExportError::Hex(field))
}

fn base64(text: &str, field: &'static str) -> Result<Vec<u8>, ExportError> {
    B64.decode(text)
        .map_err(|source| ExportError::Base64 { field, source })
}

impl HeaderLine {
    fn parse(self) -> Result<Header, ExportError> {
        if self.format != EXPORT_FORMAT {
            return Err(ExportError::UnsupportedFormat(self.format));
        }
        Ok(Header {
            public_key: base64(&self.public_key, "publicKey")?,
            start_head: ChainHead {
                seq: self.start_head.seq,
                hash: hash32(&self.start_head.hash, "startHead.hash")?,
            },
        })
    }
}

impl RecordLine {
    fn parse(self) -> Result<ChainedRecord, ExportError> {
        let event = match (self.event_json, self.event_base64) {
            (Some(text), None) => text.into_bytes(),
            (None, Some(b64)) => base64(&b64, "eventBase64")?,
            _ => return Err(ExportError::EventField),
        };
        Ok(ChainedRecord {
            seq: self.seq,
            event,
            prev_hash: hash32(&self.prev_hash, "prevHash")?,
            hash: hash32(&self.hash, "hash")?,
        })
    }
}

impl DigestLine {
    fn parse(self) -> Result<Digest, ExportError> {
        Ok(Digest {
            digest_seq: self.digest_seq,
            first_seq: self.first_seq,
            last_seq: self.last_seq,
            last_hash: hash32(&self.last_hash, "lastHash")?,
            previous_digest_signature_hash: hash32(
                &self.previous_digest_signature_hash,
                "previousDigestSignatureHash",
            )?,
            created_ms: self.created_ms,
            signature: base64(&self.signature, "signature")?,
        })
    }
}

/// Parses one digest line (as [`write_digest_line`] writes it), for stores that keep
/// digests in this form.
///
/// # Errors
///
/// [`Error::Export`] (line 1) if the text is not a digest line.
pub fn read_digest_line(line: &[u8]) -> Result<Digest, Error> {
    let at = |kind| Error::Export { line: 1, kind };
    match serde_json::from_slice::<Line>(line).map_err(|e| at(ExportError::Json(e)))? {
        Line::Digest(d) => d.parse().map_err(at),
        _ => Err(at(ExportError::MissingHeader)),
    }
}

/// Reads an export: the header, the records and the digests, each in file
/// order (so that [`verify_chain`] sees any reordering). Blank lines are
/// ignored. Nothing is verified here.
///
/// # Errors
///
/// [`Error::Io`] if reading fails; [`Error::Export`] with the line number if
/// a line is malformed, the first line is not a header, or a second header
/// appears.
pub fn read_export(
    reader: impl BufRead,
) -> Result<(Header, Vec<ChainedRecord>, Vec<Digest>), Error> {
    let mut header = None;
    let mut records = Vec::new();
    let mut digests = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let at = |kind| Error::Export { line: i + 1, kind };
        let parsed: Line = serde_json::from_str(&line).map_err(|e| at(ExportError::Json(e)))?;
        match (parsed, header.is_some()) {
            (Line::Header(h), false) => header = Some(h.parse().map_err(at)?),
            (Line::Header(_), true) => return Err(at(ExportError::DuplicateHeader)),
            (_, false) => return Err(at(ExportError::MissingHeader)),
            (Line::Record(r), true) => records.push(r.parse().map_err(at)?),
            (Line::Digest(d), true) => digests.push(d.parse().map_err(at)?),
        }
    }
    let header = header.ok_or(Error::Export {
        line: 1,
        kind: ExportError::MissingHeader,
    })?;
    Ok((header, records, digests))
}

/// Reads an export and verifies it against the pinned public key, from the
/// header's start head. A header naming another key adds the warning
/// [`Problem::ExportKeyDiffers`]; the signatures decide.
///
/// # Errors
///
/// As [`read_export`].
pub fn verify_export(reader: impl BufRead, pinned_spki_der: &[u8]) -> Result<VerifyReport, Error> {
    let (header, records, digests) = read_export(reader)?;
    let mut report = verify_chain(
        records,
        &digests,
        Some(pinned_spki_der),
        Some(header.start_head),
    );
    if header.public_key != pinned_spki_der {
        report.problems.push(Problem::ExportKeyDiffers);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::link;

    fn records() -> Vec<ChainedRecord> {
        let mut head = ChainHead::GENESIS;
        let mut out = Vec::new();
        for event in [
            &br#"{"eventID":"a","x":"quote \" backslash \\ tab \t nul \u0000"}"#[..],
            "{\"eventID\":\"b\",\"u\":\"é \u{1F511} \\u00e9 \u{2028}\"}".as_bytes(),
            br#"{ "eventID" : "c", "n": 1.0, "n": 1e3 }"#,
            b"\xff\xfe not utf-8",
        ] {
            let (r, h) = link(&head, event);
            out.push(r);
            head = h;
        }
        out
    }

    fn digest(last: &ChainedRecord) -> Digest {
        Digest {
            digest_seq: 1,
            first_seq: 1,
            last_seq: last.seq,
            last_hash: last.hash,
            previous_digest_signature_hash: [0; 32],
            created_ms: -5,
            signature: vec![0x30, 0x44, 0, 255],
        }
    }

    #[test]
    fn lines_look_as_documented() {
        let rs = records();
        let line = write_record_line(&rs[0]);
        assert!(
            line.starts_with(r#"{"type":"record","seq":1,"prevHash":"0000"#),
            "{line}"
        );
        assert!(
            line.contains(r#""eventJson":"{\"eventID\":\"a\""#),
            "{line}"
        );
        assert!(write_record_line(&rs[3]).contains(r#""eventBase64":"//4gbm90"#));
        let h = Header {
            public_key: vec![1, 2, 3],
            start_head: ChainHead::GENESIS,
        };
        assert_eq!(
            write_header_line(&h),
            format!(
                r#"{{"type":"header","format":"keyfort-audit-export-v1","publicKey":"AQID","startHead":{{"seq":1,"hash":"{}"}}}}"#,
                "0".repeat(64)
            )
        );
        let d = write_digest_line(&digest(&rs[1]));
        assert!(d.starts_with(
            r#"{"type":"digest","digestSeq":1,"firstSeq":1,"lastSeq":2,"lastHash":""#
        ));
        assert!(
            d.ends_with(r#""createdMs":-5,"signature":"MEQA/w=="}"#),
            "{d}"
        );
        for l in [line, d] {
            assert!(serde_json::from_str::<Value>(&l).is_ok());
        }
    }

    #[test]
    fn round_trip_is_byte_identical() {
        let rs = records();
        let ds = vec![digest(&rs[1])];
        let header = Header {
            public_key: vec![9; 91],
            start_head: ChainHead::GENESIS,
        };
        let mut text = Vec::new();
        write_export(&mut text, &header, &rs, &ds).unwrap();
        let lines: Vec<&str> = core::str::from_utf8(&text).unwrap().lines().collect();
        assert!(
            lines[3].starts_with(r#"{"type":"digest""#),
            "digest after record 2"
        );

        let (h2, rs2, ds2) = read_export(&text[..]).unwrap();
        assert_eq!((h2, &rs2, &ds2), (header.clone(), &rs, &ds));
        for (a, b) in rs.iter().zip(&rs2) {
            assert_eq!(a.event, b.event);
            assert!(b.hash_is_valid());
        }
        let mut again = Vec::new();
        write_export(&mut again, &header, &rs2, &ds2).unwrap();
        assert_eq!(again, text);
    }

    #[test]
    fn malformed_exports_are_rejected_with_line_numbers() {
        let rs = records();
        let header = write_header_line(&Header {
            public_key: vec![1],
            start_head: ChainHead::GENESIS,
        });
        let record = write_record_line(&rs[0]);
        let line_of = |text: String| match read_export(text.as_bytes()) {
            Err(Error::Export { line, .. }) => line,
            other => panic!("{:?}", other.map(|_| ())),
        };
        assert_eq!(line_of(record.clone()), 1);
        assert_eq!(line_of(String::new()), 1);
        assert_eq!(line_of(format!("{header}\n\n{header}")), 3);
        assert_eq!(line_of(format!("{header}\n{{\"type\":\"other\"}}")), 2);
        assert_eq!(
            line_of(format!("{header}\n{}", record.replace("prevHash", "prev"))),
            2
        );
        assert_eq!(
            line_of(format!(
                "{header}\n{}",
                record.replace("\"hash\":\"", "\"hash\":\"0")
            )),
            2
        );
        assert_eq!(
            line_of(format!(
                "{header}\n{},\"extra\":1}}",
                &record[..record.len() - 1]
            )),
            2
        );
        assert_eq!(
            line_of(format!(
                "{header}\n{}",
                record.replace("eventJson", "eventBase64")
            )),
            2
        );
        assert_eq!(line_of(header.replace("-v1", "-v2")), 1);
        assert!(read_export(format!("{header}\n{record}\n\n").as_bytes()).is_ok());
    }
}
