//! `keyfort-bench inproc`: measurements of the hot path inside the process, through
//! `Kms::execute` (request parsing, key lookup, authorization, crypto, reply), so HTTP
//! and SigV4 do not dilute the difference being measured.
//!
//! - `rotation` (issue 6): Encrypt and Decrypt on a key with one backing key vs a key
//!   rotated 100 times with the manual clock, paired (see [`crate::stats`]): many short
//!   alternating windows, A B | B A | ..., after warm-up rounds; the figure of each
//!   comparison is the median of the per-round ratios, with its interquartile range.
//!   Two controls compare two keys with one backing key each, to show the method's
//!   own spread. Goal: the slowest median within 5 %.
//! - `authz` (issue 4): Encrypt as the account root on a default-policy key vs an IAM
//!   user with an identity policy on a key with a realistic key policy, same request
//!   shape; each round measures both back to back, the figure is the median of the
//!   rounds' ratios. Goal: at least 85 %.
//!
//! A busy machine moves these figures; rerun on a quiet one before believing a miss.

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyfort_core::clock::{DAY_MS, ManualClock};
use keyfort_core::iam::UserDoc;
use keyfort_core::model::AccountId;
use keyfort_core::{Caller, Kms, Principal, ResourceLog, api};
use serde_json::Value;

use crate::report::Goal;
use crate::stats::{self, Side};

/// Which in-process measurement to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    /// Encrypt/Decrypt with 1 vs 101 backing keys (issue 6).
    Rotation,
    /// Encrypt as the root vs an IAM user under realistic policies (issue 4).
    Authz,
    /// Both.
    All,
}

/// Arguments of `keyfort-bench inproc`.
#[derive(Debug, clap::Args)]
pub struct InprocArgs {
    /// The measurement to run.
    #[arg(value_enum, default_value = "all")]
    which: Which,
    /// authz: interleaved rounds; each measures every case once.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=1000))]
    rounds: u32,
    /// authz: how long each case is measured per round, e.g. 700ms, 2s.
    #[arg(long, default_value = "700ms", value_parser = crate::parse_duration)]
    measure: Duration,
    /// rotation: measured rounds per comparison (two windows each).
    #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pair_rounds: u32,
    /// rotation: unmeasured rounds before each comparison's measured ones.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pair_warmup_rounds: u32,
    /// rotation: the length of one window, e.g. 50ms.
    #[arg(long, default_value = "50ms", value_parser = crate::parse_duration)]
    pair_window: Duration,
}

/// How a paired comparison is run.
#[derive(Debug, Clone, Copy)]
struct PairPlan {
    warmup_rounds: usize,
    rounds: usize,
    window: Duration,
}

/// Rotations of the rotated key (issue 6's case).
const ROTATIONS: usize = 100;
/// The rotation goal: the rotated key at least this share of the fresh key's rate.
const ROTATION_GOAL: f64 = 0.95;
/// The authorization goal: the IAM user at least this share of the root's rate.
const AUTHZ_GOAL: f64 = 0.85;
const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";
/// Requests between two looks at the clock.
const BATCH: u64 = 100;

/// Runs the chosen measurements and prints their tables and goals.
pub fn run(args: &InprocArgs) -> anyhow::Result<ExitCode> {
    let rounds = usize::try_from(args.rounds).context("--rounds")?;
    println!(
        "keyfort-bench inproc: {} CPU(s)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if matches!(args.which, Which::Rotation | Which::All) {
        anyhow::ensure!(
            !args.pair_window.is_zero(),
            "--pair-window must be more than zero"
        );
        let plan = PairPlan {
            warmup_rounds: usize::try_from(args.pair_warmup_rounds)?,
            rounds: usize::try_from(args.pair_rounds)?,
            window: args.pair_window,
        };
        rotation(plan).context("the rotation measurement")?;
    }
    if matches!(args.which, Which::Authz | Which::All) {
        println!(
            "authz: {rounds} interleaved rounds of {:.2} s per case",
            args.measure.as_secs_f64()
        );
        authz(rounds, args.measure).context("the authorization measurement")?;
    }
    Ok(ExitCode::SUCCESS)
}

// ---- the harness -------------------------------------------------------------------

/// Where requests come from (the `aws:SourceIp` and `aws:SecureTransport` they carry).
#[derive(Debug, Clone, Copy)]
struct Origin {
    source_ip: Option<IpAddr>,
    secure_transport: bool,
}

/// One request, measured as a unit.
struct Case<'a> {
    principal: &'a Principal,
    op: &'static str,
    body: String,
}

/// An in-memory keyfort with a manual clock and one account.
struct Bench {
    kms: Kms,
    clock: Arc<ManualClock>,
    account: AccountId,
    root: Principal,
    origin: Origin,
}

impl Bench {
    fn new(origin: Origin) -> anyhow::Result<Bench> {
        let clock = Arc::new(ManualClock::new());
        let store = Arc::new(keyfort_store::SqliteStore::open_in_memory()?);
        let root_key = keyfort_crypto::RootKey::from_symmetric(
            keyfort_crypto::SymmetricKey::from_bytes(&[7u8; 32])?,
        );
        let kms = Kms::new(store, root_key, clock.clone());
        let account = AccountId::parse(ACCOUNT).context("the account id")?;
        kms.ensure_account(&account)?;
        let root = Principal::root(account.clone(), "AKIAKEYFORTBENCH0001");
        Ok(Bench {
            kms,
            clock,
            account,
            root,
            origin,
        })
    }

    fn execute(
        &self,
        principal: &Principal,
        op: &str,
        body: &str,
    ) -> keyfort_core::Result<Vec<u8>> {
        let log = ResourceLog::default();
        let caller = Caller {
            principal,
            region: REGION,
            resources: &log,
            source_ip: self.origin.source_ip,
            secure_transport: self.origin.secure_transport,
            via_service: None,
        };
        self.kms.execute(&caller, api::parse(op, body.as_bytes())?)
    }

    /// One request whose reply is needed (setup, not measured).
    fn call(&self, principal: &Principal, op: &str, body: &str) -> anyhow::Result<Value> {
        let reply = self
            .execute(principal, op, body)
            .with_context(|| format!("{op} {body}"))?;
        serde_json::from_slice(&reply).with_context(|| format!("{op}'s reply"))
    }

    /// Requests per second of `case` for about `measure`.
    fn rate(&self, case: &Case<'_>, measure: Duration) -> anyhow::Result<f64> {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < measure {
            for _ in 0..BATCH {
                std::hint::black_box(self.execute(case.principal, case.op, &case.body)?);
            }
            n += BATCH;
        }
        Ok(n as f64 / start.elapsed().as_secs_f64())
    }

    /// A paired comparison of `a` (the baseline) and `b`: `plan.warmup_rounds` then
    /// `plan.rounds` rounds, each measuring both for `plan.window`, A first in even
    /// rounds and B first in odd ones. Returns the measured rounds' `[rate of a, rate
    /// of b]`.
    fn paired(&self, a: &Case<'_>, b: &Case<'_>, plan: PairPlan) -> anyhow::Result<Vec<[f64; 2]>> {
        let mut out = Vec::with_capacity(plan.rounds);
        for round in 0..plan.warmup_rounds + plan.rounds {
            let mut rates = [0.0; 2];
            for side in stats::order(round) {
                let case = match side {
                    Side::A => a,
                    Side::B => b,
                };
                rates[side.index()] = self.rate(case, plan.window)?;
            }
            if round >= plan.warmup_rounds {
                out.push(rates);
            }
        }
        Ok(out)
    }

    /// The rate of every case in every round; a round measures each case in turn, so
    /// drift in the machine's load hits every case alike. `rates[round][case]`.
    fn rounds(
        &self,
        cases: &[Case<'_>],
        rounds: usize,
        measure: Duration,
    ) -> anyhow::Result<Vec<Vec<f64>>> {
        (0..rounds)
            .map(|_| cases.iter().map(|c| self.rate(c, measure)).collect())
            .collect()
    }
}

/// The string at `path` in a JSON reply.
fn str_at(v: &Value, path: &[&str]) -> anyhow::Result<String> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("no {} in {v}", path.join(".")))
}

// ---- pure helpers --------------------------------------------------------------------

/// The best value of column `i` over the rounds.
fn best(rates: &[Vec<f64>], i: usize) -> f64 {
    rates
        .iter()
        .filter_map(|r| r.get(i).copied())
        .fold(0.0, f64::max)
}

/// The smallest and largest of `values`.
fn range(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// Whether a ratio meets a goal of at least `goal` (a NaN never does).
fn met(ratio: f64, goal: f64) -> bool {
    ratio >= goal
}

/// A ratio as a signed change in percent.
fn change(ratio: f64) -> String {
    format!("{:+.1} %", (ratio - 1.0) * 100.0)
}

fn print_goal(g: &Goal) {
    let verdict = match g.met {
        Some(true) => "met",
        Some(false) => "NOT met",
        None => "not computed",
    };
    println!(
        "{:<46} {:>16}  (goal {}) {}",
        g.name,
        g.figure.as_deref().unwrap_or("-"),
        g.target,
        verdict
    );
}

// ---- rotation (issue 6) --------------------------------------------------------------

fn rotation(plan: PairPlan) -> anyhow::Result<()> {
    let b = Bench::new(Origin {
        source_ip: None,
        secure_transport: false,
    })?;
    let root = &b.root;
    let plaintext = STANDARD.encode([0x5au8; 32]);
    let new_key = |desc: &str| -> anyhow::Result<String> {
        let v = b.call(root, "CreateKey", &format!(r#"{{"Description":"{desc}"}}"#))?;
        str_at(&v, &["KeyMetadata", "KeyId"])
    };
    let fresh = new_key("one backing key")?;
    let fresh2 = new_key("one backing key, control")?;
    let rotated = new_key("rotated")?;
    let encrypt = |id: &str| format!(r#"{{"KeyId":"{id}","Plaintext":"{plaintext}"}}"#);
    let blob = |id: &str| -> anyhow::Result<String> {
        str_at(&b.call(root, "Encrypt", &encrypt(id))?, &["CiphertextBlob"])
    };
    let oldest_blob = blob(&rotated)?;
    b.call(
        root,
        "EnableKeyRotation",
        &format!(r#"{{"KeyId":"{rotated}","RotationPeriodInDays":90}}"#),
    )?;
    eprintln!("keyfort-bench: rotating a key {ROTATIONS} times");
    for _ in 0..ROTATIONS {
        b.clock.advance_ms(91 * DAY_MS);
        let done = b.kms.run_due_rotations()?;
        ensure!(done.len() == 1, "{} rotations were due, not 1", done.len());
    }
    let listed = b.call(
        root,
        "ListKeyRotations",
        &format!(r#"{{"KeyId":"{rotated}","Limit":1000}}"#),
    )?;
    let n = listed["Rotations"].as_array().map_or(0, Vec::len);
    ensure!(n == ROTATIONS, "{n} rotations listed, not {ROTATIONS}");

    let decrypt = |b: &str| format!(r#"{{"CiphertextBlob":"{b}"}}"#);
    let fresh_blob = blob(&fresh)?;
    let fresh2_blob = blob(&fresh2)?;
    let newest_blob = blob(&rotated)?;
    let case = |op, body| Case {
        principal: root,
        op,
        body,
    };
    // (name, baseline, compared, counts for the goal)
    let comparisons = [
        (
            "Encrypt",
            case("Encrypt", encrypt(&fresh)),
            case("Encrypt", encrypt(&rotated)),
            true,
        ),
        (
            "Decrypt, blob of the newest material",
            case("Decrypt", decrypt(&fresh_blob)),
            case("Decrypt", decrypt(&newest_blob)),
            true,
        ),
        (
            "Decrypt, blob of the oldest material",
            case("Decrypt", decrypt(&fresh_blob)),
            case("Decrypt", decrypt(&oldest_blob)),
            true,
        ),
        (
            "control: Encrypt, another 1-key key",
            case("Encrypt", encrypt(&fresh)),
            case("Encrypt", encrypt(&fresh2)),
            false,
        ),
        (
            "control: Decrypt, another 1-key key",
            case("Decrypt", decrypt(&fresh_blob)),
            case("Decrypt", decrypt(&fresh2_blob)),
            false,
        ),
    ];
    let mut results = Vec::new();
    for (name, base, other, goal) in &comparisons {
        eprintln!(
            "keyfort-bench: rotation, {name}: {} warm-up + {} rounds of two {:?} windows",
            plan.warmup_rounds, plan.rounds, plan.window
        );
        let rounds = b.paired(base, other, plan)?;
        let summary = stats::summarize(&rounds).context("no round measured anything")?;
        results.push((*name, summary, *goal));
    }
    println!();
    println!(
        "Rotation (issue 6): in process, paired: {} rounds of two {} ms windows per comparison (the order swapped each round) after {} warm-up rounds",
        plan.rounds,
        plan.window.as_millis(),
        plan.warmup_rounds
    );
    println!(
        "{:<38} {:>13} {:>16} {:>14} {:>19}",
        "operation (median rate of the windows)",
        "1 backing key",
        format!("{} backing keys", ROTATIONS + 1),
        "median change",
        "interquartile range"
    );
    let mut worst = f64::INFINITY;
    for (name, s, goal) in &results {
        if *goal {
            worst = worst.min(s.median);
        }
        println!(
            "{name:<38} {:>11.0}/s {:>14.0}/s {:>14} {:>19}",
            s.a_median,
            s.b_median,
            change(s.median),
            format!("{}..{}", change(s.q1), change(s.q3))
        );
    }
    println!(
        "(the control rows compare the 1-backing-key key with another such key: the method's own offset and spread)"
    );
    println!();
    print_goal(&Goal {
        name: "slowest after 100 rotations vs 1 backing key",
        figure: Some(format!("{} (median)", change(worst))),
        target: "within 5 %",
        met: Some(met(worst, ROTATION_GOAL)),
    });
    Ok(())
}

// ---- authorization (issue 4) ---------------------------------------------------------

/// A console-style key policy: administrators, users with conditions, a grant
/// statement, two denies (IP ranges, aliases and principal tags).
fn realistic_key_policy() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Id":"key-consolepolicy-3","Statement":[
  {{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
  {{"Sid":"Allow access for Key Administrators","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{ACCOUNT}:role/KeyAdmin","arn:aws:iam::{ACCOUNT}:user/security"]}},
   "Action":["kms:Create*","kms:Describe*","kms:Enable*","kms:List*","kms:Put*","kms:Update*","kms:Revoke*","kms:Disable*","kms:Get*","kms:Delete*","kms:TagResource","kms:UntagResource","kms:ScheduleKeyDeletion","kms:CancelKeyDeletion"],"Resource":"*"}},
  {{"Sid":"Allow use of the key","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{ACCOUNT}:role/app","arn:aws:iam::{ACCOUNT}:user/app"]}},
   "Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*",
   "Condition":{{"StringEquals":{{"kms:EncryptionContext:tenant":"${{aws:username}}"}},"Bool":{{"aws:SecureTransport":"true"}}}}}},
  {{"Sid":"Allow attachment of persistent resources","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:role/app"}},
   "Action":["kms:CreateGrant","kms:ListGrants","kms:RevokeGrant"],"Resource":"*","Condition":{{"Bool":{{"kms:GrantIsForAWSResource":"true"}}}}}},
  {{"Sid":"Deny outside the network","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",
   "Condition":{{"NotIpAddress":{{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}},"Bool":{{"aws:ViaAWSService":"false"}}}}}},
  {{"Sid":"Deny other tenants","Effect":"Deny","Principal":"*","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*",
   "Condition":{{"StringLike":{{"kms:RequestAlias":"alias/tenant-*"}},"StringNotEquals":{{"aws:PrincipalTag/team":"payments"}}}}}}
]}}"#
    )
}

/// The IAM user's identity policy: Encrypt under an encryption-context condition.
const IDENTITY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"UseTenantKeys","Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],
   "Resource":"arn:aws:kms:us-east-1:111122223333:key/*",
   "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"${aws:username}"},"StringLike":{"kms:EncryptionAlgorithm":"SYMMETRIC_*"}}},
  {"Sid":"Describe","Effect":"Allow","Action":["kms:DescribeKey","kms:ListAliases","kms:ListKeys"],"Resource":"*"},
  {"Sid":"NoDeletion","Effect":"Deny","Action":["kms:ScheduleKeyDeletion","kms:DisableKey"],"Resource":"*"}
]}"#;

fn authz(rounds: usize, measure: Duration) -> anyhow::Result<()> {
    let b = Bench::new(Origin {
        source_ip: Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))),
        secure_transport: true,
    })?;
    let root = &b.root;
    b.kms.iam_create_user(&b.account, "app", "/", Vec::new())?;
    b.kms
        .iam_put_inline::<UserDoc>(&b.account, "app", "kms", IDENTITY_POLICY)?;
    let (record, _secret, _) = b.kms.iam_create_access_key(&b.account, "app")?;
    let app = b
        .kms
        .credential(&record.access_key_id)?
        .context("the IAM user's new access key is unknown")?
        .principal
        .clone();
    let want = format!("arn:aws:iam::{ACCOUNT}:user/app");
    ensure!(app.arn == want, "the user is {}, not {want}", app.arn);
    // The other principals the key policy names (a key policy naming a principal that
    // does not exist is refused, as AWS refuses it).
    b.kms
        .iam_create_user(&b.account, "security", "/", Vec::new())?;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    for role in ["KeyAdmin", "app"] {
        b.kms
            .iam_create_role(&b.account, role, "/", &trust, None, None, Vec::new())?;
    }

    let plain = STANDARD.encode([0x5au8; 32]);
    let default_key = str_at(&b.call(root, "CreateKey", "{}")?, &["KeyMetadata", "KeyId"])?;
    let policy = serde_json::to_string(&realistic_key_policy())?;
    let realistic_key = str_at(
        &b.call(
            root,
            "CreateKey",
            &format!(
                r#"{{"Policy":{policy},"Tags":[{{"TagKey":"env","TagValue":"prod"}},{{"TagKey":"team","TagValue":"payments"}}]}}"#
            ),
        )?,
        &["KeyMetadata", "KeyId"],
    )?;
    for (alias, target) in [
        ("alias/app-data", &realistic_key),
        ("alias/app-data-v2", &realistic_key),
        ("alias/plain-data", &default_key),
    ] {
        b.call(
            root,
            "CreateAlias",
            &format!(r#"{{"AliasName":"{alias}","TargetKeyId":"{target}"}}"#),
        )?;
    }
    // The same request shape on both sides: only the principal and the policies differ.
    let body = |alias: &str| {
        format!(
            r#"{{"KeyId":"{alias}","Plaintext":"{plain}","EncryptionContext":{{"tenant":"app","purpose":"bench"}}}}"#
        )
    };
    let cases = [
        Case {
            principal: root,
            op: "Encrypt",
            body: body("alias/plain-data"),
        },
        Case {
            principal: &app,
            op: "Encrypt",
            body: body("alias/app-data"),
        },
    ];
    // Both paths work, and the user's is really decided by its policies.
    for c in &cases {
        b.call(c.principal, c.op, &c.body)?;
    }
    let wrong_tenant = format!(
        r#"{{"KeyId":"alias/app-data","Plaintext":"{plain}","EncryptionContext":{{"tenant":"other"}}}}"#
    );
    match b.execute(&app, "Encrypt", &wrong_tenant) {
        Err(e) if e.code() == "AccessDeniedException" => {}
        Err(e) => anyhow::bail!(
            "another tenant's Encrypt failed with {}, not AccessDeniedException",
            e.code()
        ),
        Ok(_) => anyhow::bail!("another tenant's Encrypt was allowed"),
    }

    eprintln!("keyfort-bench: measuring authorization, {rounds} rounds");
    let rates = b.rounds(&cases, rounds, measure)?;
    let ratios: Vec<f64> = rates.iter().map(|r| r[1] / r[0]).collect();
    let ratio = stats::median(&ratios).context("no rounds")?;
    let (lo, hi) = range(&ratios);
    println!();
    println!(
        "Authorization (issue 4): Encrypt in process, {rounds} rounds, each measuring both cases back to back"
    );
    println!("{:<52} {:>12}", "case", "best round");
    println!(
        "{:<52} {:>10.0}/s",
        "root, default key policy",
        best(&rates, 0)
    );
    println!(
        "{:<52} {:>10.0}/s",
        "IAM user, identity policy, realistic key policy",
        best(&rates, 1)
    );
    println!(
        "{:<52} {:>12}",
        "user / root, rounds' ratios",
        format!("{:.1}..{:.1} %", lo * 100.0, hi * 100.0)
    );
    println!();
    print_goal(&Goal {
        name: "IAM user / root, median of rounds' ratios",
        figure: Some(format!("{:.1} %", ratio * 100.0)),
        target: ">= 85 %",
        met: Some(met(ratio, AUTHZ_GOAL)),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals() {
        assert!(met(0.95, ROTATION_GOAL));
        assert!(met(1.02, ROTATION_GOAL));
        assert!(!met(0.949, ROTATION_GOAL));
        assert!(met(0.85, AUTHZ_GOAL));
        assert!(!met(0.849, AUTHZ_GOAL));
        assert!(!met(f64::NAN, AUTHZ_GOAL));
    }

    #[test]
    fn best_and_range() {
        let rates = vec![vec![10.0, 9.0], vec![12.0, 8.0]];
        assert_eq!(best(&rates, 0), 12.0);
        assert_eq!(best(&rates, 1), 9.0);
        assert_eq!(range(&[1.1, 0.9, 1.0]), (0.9, 1.1));
        assert_eq!(change(1.016), "+1.6 %");
        assert_eq!(change(0.996), "-0.4 %");
    }

    #[test]
    fn json_paths() {
        let v = serde_json::json!({"KeyMetadata": {"KeyId": "k-1"}});
        assert_eq!(
            str_at(&v, &["KeyMetadata", "KeyId"]).ok().as_deref(),
            Some("k-1")
        );
        assert!(str_at(&v, &["KeyMetadata", "Arn"]).is_err());
    }

    /// The whole path on a tiny budget: setup checks pass and rates come out.
    #[test]
    fn both_measurements_run() {
        let d = Duration::from_millis(1);
        let plan = PairPlan {
            warmup_rounds: 1,
            rounds: 2,
            window: d,
        };
        assert!(rotation(plan).is_ok());
        assert!(authz(1, d).is_ok());
    }

    /// A paired comparison returns one `[a, b]` per measured round, warm-up left out.
    #[test]
    fn paired_rounds_leave_out_the_warm_up() {
        let b = Bench::new(Origin {
            source_ip: None,
            secure_transport: false,
        })
        .expect("bench");
        let case = Case {
            principal: &b.root,
            op: "GenerateRandom",
            body: r#"{"NumberOfBytes":32}"#.to_owned(),
        };
        let plan = PairPlan {
            warmup_rounds: 2,
            rounds: 3,
            window: Duration::from_millis(1),
        };
        let rounds = b.paired(&case, &case, plan).expect("measured");
        assert_eq!(rounds.len(), 3);
        assert!(rounds.iter().all(|r| r[0] > 0.0 && r[1] > 0.0));
    }
}
