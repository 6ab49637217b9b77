//! keyfort-bench: the load generator behind `docs/benchmarks.md`.
//!
//! `keyfort-bench run` starts the servers it compares (keyfort, a do-nothing
//! server on keyfort's HTTP stack, optionally moto), drives each with signed
//! KMS requests over keep-alive connections, and prints (or writes as
//! markdown) throughput and latency. `keyfort-bench noop-server` is the
//! do-nothing server.
#![forbid(unsafe_code)]

mod authz;
mod child;
mod iam;
mod inproc;
mod kms;
mod load;
mod noop;
mod paired;
mod report;
mod stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::kms::{Endpoint, Op};
use crate::report::{Kind, Row};

/// Load generator and benchmark harness for keyfort.
#[derive(Debug, Parser)]
#[command(name = "keyfort-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// A do-nothing HTTP server on keyfort's stack, answering every request
    /// 200 with a fixed Encrypt-sized JSON body.
    NoopServer {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
    /// Start the servers, load them, report.
    Run(Box<RunArgs>),
    /// The reference for keyfort's RSA_2048 Decrypt: aws-lc-rs RSAES_OAEP_SHA_256
    /// decryptions per second on one thread, with no server around it.
    RsaBaseline {
        /// How long to measure, in seconds.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// In-process measurements through `Kms::execute`: rotation (issue 6) and
    /// authorization (issue 4) cost, with their goals.
    Inproc(inproc::InprocArgs),
}

fn rsa_baseline(seconds: u64) -> anyhow::Result<ExitCode> {
    use keyfort_crypto::{AsymKey, AsymSpec, RsaOaep};
    let der = keyfort_crypto::generate_asym(AsymSpec::Rsa2048)?;
    let key = AsymKey::from_private(AsymSpec::Rsa2048, der.expose())?;
    let ct = key.rsa_encrypt(RsaOaep::Sha256, b"keyfort-bench 32-byte plaintext!")?;
    let end = std::time::Instant::now() + std::time::Duration::from_secs(seconds.max(1));
    let start = std::time::Instant::now();
    let mut n = 0u64;
    while std::time::Instant::now() < end {
        let pt = key.rsa_decrypt(RsaOaep::Sha256, &ct)?;
        anyhow::ensure!(
            pt.expose() == b"keyfort-bench 32-byte plaintext!",
            "RSA round trip failed"
        );
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!("aws-lc-rs RSA_2048 RSAES_OAEP_SHA_256 decrypt, one thread: {rate:.0} ops/s");
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Keep-alive connections (one task each) per measurement.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured time per operation, e.g. 10s, 500ms, 1m.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured time before each measurement.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Operations to measure on each KMS target.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "encrypt,decrypt,generate-data-key"
    )]
    ops: Vec<Op>,
    /// The keyfort server binary to start.
    #[arg(long, default_value = "target/release/keyfort")]
    keyfort_bin: PathBuf,
    /// Do not start and measure keyfort.
    #[arg(long)]
    no_keyfort: bool,
    /// Also measure issue 5's goal: Encrypt on keyfort with the audit trail against
    /// keyfort started with `--no-audit`, paired: both servers run, the same
    /// connection tasks send to one or the other in alternating windows, the order
    /// swapped every round.
    #[arg(long)]
    no_audit_too: bool,
    /// Do not start and measure the noop server.
    #[arg(long)]
    no_noop: bool,
    /// Also start and measure moto (`moto_server`).
    #[arg(long)]
    moto: bool,
    /// The moto server command.
    #[arg(long, default_value = "moto_server")]
    moto_bin: String,
    /// Connections for moto (a threaded Python server; [default: --connections]).
    #[arg(long)]
    moto_connections: Option<usize>,
    /// Measured time per operation for moto [default: --duration].
    #[arg(long, value_parser = parse_duration)]
    moto_duration: Option<Duration>,
    /// A further KMS endpoint to measure, http://host:port (repeatable).
    #[arg(long = "endpoint")]
    endpoints: Vec<String>,
    /// Access key id for --endpoint targets.
    #[arg(long, default_value = "AKIAIOSFODNN7EXAMPLE")]
    access_key: String,
    /// Secret access key for --endpoint targets.
    #[arg(long, default_value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")]
    secret_key: String,
    /// Region to sign for.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Measure each operation this many times; the run of median throughput
    /// is reported (errors of all runs are counted).
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Repeat a measurement during which other processes used the CPU up to
    /// this many times (the least disturbed one is kept).
    #[arg(long, default_value_t = 3)]
    retries: u32,
    /// Before each measurement, wait up to this long for the machine to be quiet.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    quiet_timeout: Duration,
    /// Write the results as a markdown section into FILE (below its marker line).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Rotate the benchmark key this many times (RotateKeyOnDemand, at most 25 as in
    /// AWS) after making the Decrypt ciphertext, so Decrypt opens the oldest material.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=25))]
    rotations: u32,
    /// Also measure issue 4's goal on the keyfort server (audit trail on): Encrypt as
    /// the root on a default-policy key against an IAM user under realistic identity
    /// and key policies (made over HTTP with IAM and KMS calls), paired: alternating
    /// windows on the same connections, the order swapped every round.
    #[arg(long)]
    authz: bool,
    /// Measured rounds of each paired comparison (--authz, --no-audit-too; two
    /// windows each).
    #[arg(long, alias = "authz-rounds", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    paired_rounds: u32,
    /// The length of one window of a paired comparison; the warm-up (--warmup) is
    /// spent in alternating windows too, at least one round.
    #[arg(long, alias = "authz-window", default_value = "1s", value_parser = parse_duration)]
    paired_window: Duration,
}

/// Parses `10s`, `500ms`, `2m` or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 10s, 500ms or 1m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use ms, s or m)")),
    };
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A KMS target's connection settings and the child behind it, if any.
struct KmsTarget {
    name: String,
    kind: Kind,
    endpoint: Endpoint,
    connections: usize,
    duration: Duration,
    // Dropped (killed) when the target is done.
    process: Option<child::ServerProcess>,
}

/// A KMS target to start.
enum Spec {
    Keyfort,
    Moto,
    Url(String),
}

async fn start(spec: Spec, args: &RunArgs) -> anyhow::Result<KmsTarget> {
    let given = |addr: SocketAddr, host: String| Endpoint {
        addr,
        host,
        access_key_id: args.access_key.clone(),
        secret_access_key: args.secret_key.clone(),
        region: args.region.clone(),
    };
    Ok(match spec {
        Spec::Keyfort => keyfort_target(args, true)?,
        Spec::Moto => {
            let (proc, addr) = child::start_moto(&args.moto_bin)?;
            step(&format!("moto_server listening on {addr}"));
            KmsTarget {
                name: "moto".to_owned(),
                kind: Kind::Moto,
                endpoint: given(addr, addr.to_string()),
                connections: args.moto_connections.unwrap_or(args.connections),
                duration: args.moto_duration.unwrap_or(args.duration),
                process: Some(proc),
            }
        }
        Spec::Url(url) => {
            let (host, addr) = kms::resolve_url(&url).await?;
            KmsTarget {
                name: url,
                kind: Kind::Endpoint,
                endpoint: given(addr, host),
                connections: args.connections,
                duration: args.duration,
                process: None,
            }
        }
    })
}

/// Starts a keyfort server, with the audit trail or `--no-audit`, as a target.
fn keyfort_target(args: &RunArgs, audit: bool) -> anyhow::Result<KmsTarget> {
    let (name, kind) = if audit {
        ("keyfort", Kind::Keyfort)
    } else {
        ("keyfort --no-audit", Kind::AuditOff)
    };
    let (proc, addr) = child::start_keyfort(&args.keyfort_bin, audit)?;
    step(&format!("{name} listening on {addr}"));
    Ok(KmsTarget {
        name: name.to_owned(),
        kind,
        endpoint: Endpoint {
            addr,
            host: addr.to_string(),
            access_key_id: child::KEYFORT_ACCESS_KEY_ID.to_owned(),
            secret_access_key: child::KEYFORT_SECRET_ACCESS_KEY.to_owned(),
            region: args.region.clone(),
        },
        connections: args.connections,
        duration: args.duration,
        process: Some(proc),
    })
}

fn step(msg: &str) {
    eprintln!("keyfort-bench: {msg}");
}

/// How hard to try for an undisturbed, representative measurement.
#[derive(Clone, Copy, Debug)]
struct Patience {
    repeat: u32,
    retries: u32,
    quiet_timeout: Duration,
}

/// Measures `job` once, repeating a disturbed measurement up to
/// `patience.retries` times; returns the least disturbed one and the number
/// of attempts.
async fn measure_once(
    label: &str,
    job: &Arc<load::Job>,
    patience: Patience,
) -> anyhow::Result<(load::Measured, u32)> {
    let mut best: Option<load::Measured> = None;
    let mut attempts = 0;
    while attempts <= patience.retries {
        attempts += 1;
        step(&format!(
            "{label}: {} connections, {:?} warm-up, {:?} measured{}",
            job.connections,
            job.warmup,
            job.duration,
            if attempts > 1 {
                format!(" (attempt {attempts})")
            } else {
                String::new()
            }
        ));
        load::wait_for_quiet(patience.quiet_timeout).await;
        let m = load::run(Arc::clone(job)).await?;
        let other = m.other_cores.unwrap_or(0.0);
        step(&format!(
            "  {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors{}",
            m.rate(),
            m.quantile_ms(0.5).unwrap_or(f64::NAN),
            m.quantile_ms(0.99).unwrap_or(f64::NAN),
            m.errors,
            if other > load::DISTURBED {
                format!(
                    "; DISTURBED: other processes used {:.0} % of a core",
                    other * 100.0
                )
            } else {
                String::new()
            }
        ));
        let done = other <= load::DISTURBED;
        let better = best
            .as_ref()
            .is_none_or(|b| other < b.other_cores.unwrap_or(0.0));
        if better {
            best = Some(m);
        }
        if done {
            break;
        }
    }
    let m = best.ok_or_else(|| anyhow::anyhow!("no measurement of {label}"))?;
    Ok((m, attempts))
}

/// Measures `job` `patience.repeat` times and adds a row with the run of
/// median throughput; errors of every run are added up in it.
async fn measure(
    name: &str,
    kind: Kind,
    op: Op,
    job: load::Job,
    patience: Patience,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let job = Arc::new(job);
    let mut runs = Vec::new();
    let mut attempts = 0;
    for i in 0..patience.repeat.max(1) {
        let label = if patience.repeat > 1 {
            format!(
                "{name} {} (run {} of {})",
                op.label(),
                i + 1,
                patience.repeat
            )
        } else {
            format!("{name} {}", op.label())
        };
        let (m, n) = measure_once(&label, &job, patience).await?;
        attempts += n;
        runs.push(m);
    }
    let errors: u64 = runs.iter().map(|m| m.errors).sum();
    let first_error = runs.iter().find_map(|m| m.error_sample.clone());
    let reconnects: u64 = runs.iter().map(|m| m.reconnects).sum();
    runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    let rates: Vec<f64> = runs.iter().map(load::Measured::rate).collect();
    let mut m = runs.swap_remove(runs.len() / 2);
    m.errors = errors;
    m.error_sample = first_error;
    m.reconnects = reconnects;
    rows.push(Row {
        target: name.to_owned(),
        kind,
        op: op.label(),
        connections: job.connections,
        m,
        attempts,
        rates,
    });
    Ok(())
}

/// Unmeasured --authz rounds that cover `warmup` (at least one).
fn paired_warmup_rounds(warmup: Duration, window: Duration) -> usize {
    let round = 2.0 * window.as_secs_f64();
    if round <= 0.0 {
        return 1;
    }
    ((warmup.as_secs_f64() / round).ceil() as usize).max(1)
}

/// How a paired comparison's sides are named in the report.
struct PairedNames {
    heading: &'static str,
    sides: [&'static str; 2],
    short: [&'static str; 2],
    /// Each side's row: its kind and its target name.
    rows: [(Kind, &'static str); 2],
}

/// Runs a paired measurement of `sides` with the run's window and rounds, and reports
/// it: a line per side and the ratio's summary on the terminal, a row per side in
/// `rows`; returns the rounds for the goal. `what` names the comparison in the log.
#[allow(clippy::too_many_arguments)]
async fn run_paired(
    args: &RunArgs,
    patience: Patience,
    sides: [paired::SideSpec; 2],
    connections: usize,
    server_pids: Vec<u32>,
    what: &str,
    names: PairedNames,
    rows: &mut Vec<Row>,
) -> anyhow::Result<report::PairedRun> {
    let job = Arc::new(paired::PairedJob {
        sides,
        connections,
        window: args.paired_window,
        warmup_rounds: paired_warmup_rounds(args.warmup, args.paired_window),
        rounds: usize::try_from(args.paired_rounds)?,
        server_pids,
    });
    step(&format!(
        "{what}: {} connections, {} warm-up + {} measured rounds of two {:?} windows",
        job.connections, job.warmup_rounds, job.rounds, job.window
    ));
    load::wait_for_quiet(patience.quiet_timeout).await;
    let m = paired::run(Arc::clone(&job)).await?;
    for (side, name) in m.sides.iter().zip(names.sides) {
        step(&format!(
            "  {name}: {:.0} req/s (mean of its windows), p50 {:.2} ms, p99 {:.2} ms, {} errors",
            side.rate(),
            side.quantile_ms(0.5).unwrap_or(f64::NAN),
            side.quantile_ms(0.99).unwrap_or(f64::NAN),
            side.errors
        ));
    }
    if let Some(s) = stats::summarize(&m.rounds) {
        step(&format!(
            "  {} ÷ {}: median of {} rounds {:.1} % (interquartile {:.1}-{:.1} %)",
            names.sides[1],
            names.sides[0],
            s.rounds,
            s.median * 100.0,
            s.q1 * 100.0,
            s.q3 * 100.0
        ));
    }
    for ((kind, target), measured) in names.rows.into_iter().zip(m.sides) {
        let rate = measured.rate();
        rows.push(Row {
            target: target.to_owned(),
            kind,
            op: "Encrypt",
            connections: job.connections,
            m: measured,
            attempts: 1,
            rates: vec![rate],
        });
    }
    Ok(report::PairedRun {
        heading: names.heading,
        sides: names.sides,
        short: names.short,
        rounds: m.rounds,
        round_other_cores: m.round_other_cores,
        window: job.window,
        warmup_rounds: job.warmup_rounds,
        connections: job.connections,
    })
}

/// `--authz`: sets up the root's and the IAM user's sides on `target` and measures
/// them paired; adds a row per side.
async fn measure_authz(
    target: &KmsTarget,
    args: &RunArgs,
    patience: Patience,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) -> anyhow::Result<report::PairedRun> {
    step("authz: making an IAM user, its policies, and a key with a realistic key policy");
    let setup = authz::setup(&target.endpoint)
        .await
        .with_context(|| format!("setting up the IAM user on {}", target.name))?;
    let run = run_paired(
        args,
        patience,
        [setup.root.clone(), setup.user.clone()],
        target.connections,
        target
            .process
            .as_ref()
            .map(child::ServerProcess::pid)
            .into_iter()
            .collect(),
        &format!(
            "{} authz: Encrypt as root vs as {}",
            target.name, setup.user_arn
        ),
        PairedNames {
            heading: "Authorization (issue 4), paired on one server",
            sides: ["root", "IAM user"],
            short: ["root", "user"],
            rows: [
                (Kind::AuthzRoot, "keyfort root, default policy"),
                (Kind::AuthzUser, "keyfort IAM user, realistic"),
            ],
        },
        rows,
    )
    .await?;
    notes.push(format!(
        "keyfort root, default policy / keyfort IAM user, realistic (`--authz`): the same keyfort server, Encrypt of the same 32-byte plaintext with a two-pair encryption context by alias, as the account root on a key with the default key policy, and as the IAM user {} (an inline policy of three statements and an attached managed policy of two, conditions on the encryption context, `${{aws:username}}`, `aws:SourceIp`, a Deny in each) on a key whose key policy has six statements (root's Enable IAM User Permissions, key administrators, key users with conditions, grants, two Denies), made over HTTP with IAM and KMS calls; alternating windows on the same connections. Their req/s is the mean over the side's windows; the goal is the median of the per-round ratios.",
        setup.user_arn
    ));
    Ok(run)
}

/// `--no-audit-too`: starts keyfort with and without the audit trail side by side
/// and measures Encrypt on them paired; adds a row per side.
async fn measure_audit(
    args: &RunArgs,
    patience: Patience,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) -> anyhow::Result<report::PairedRun> {
    let off = keyfort_target(args, false)?;
    let on = keyfort_target(args, true)?;
    let mut sides = Vec::with_capacity(2);
    for t in [&off, &on] {
        let prepared = kms::setup(&t.endpoint, args.rotations)
            .await
            .with_context(|| format!("setting up {}", t.name))?;
        sides.push(paired::SideSpec {
            endpoint: t.endpoint.clone(),
            target: kms::target_header(Op::Encrypt),
            body: kms::prepared_body(Op::Encrypt, &prepared)?,
        });
    }
    let sides: [paired::SideSpec; 2] = sides
        .try_into()
        .map_err(|_| anyhow::anyhow!("two sides expected"))?;
    let run = run_paired(
        args,
        patience,
        sides,
        args.connections,
        [&off, &on]
            .iter()
            .filter_map(|t| t.process.as_ref().map(child::ServerProcess::pid))
            .collect(),
        "audit trail: Encrypt on keyfort --no-audit vs keyfort",
        PairedNames {
            heading: "Audit trail (issue 5), paired on two servers",
            sides: ["--no-audit", "audited"],
            short: ["off", "on"],
            rows: [
                (Kind::AuditOff, "keyfort --no-audit (paired)"),
                (Kind::AuditOn, "keyfort (paired)"),
            ],
        },
        rows,
    )
    .await?;
    notes.push(
        "keyfort --no-audit (paired) / keyfort (paired) (`--no-audit-too`): two keyfort servers started side by side, one with `--no-audit`, each with its own key; the same connection tasks hold a connection to each and send Encrypt of the same 32-byte plaintext to one or the other in alternating windows (the order swapped each round), so both are measured moments apart under the same conditions. Their req/s is the mean over the side's windows; the goal is the median of the per-round ratios. Server CPU is both servers' (the idle one uses next to nothing).".to_owned(),
    );
    Ok(run)
}

/// What a run produced.
struct Outcome {
    rows: Vec<Row>,
    notes: Vec<String>,
    paired: report::Paired,
}

async fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    if args.connections == 0 || args.moto_connections == Some(0) {
        bail!("--connections must be at least 1");
    }
    if args.authz && args.no_keyfort {
        bail!("--authz measures the keyfort server the run starts; drop --no-keyfort");
    }
    if args.paired_window.is_zero() {
        bail!("--paired-window must be more than zero");
    }
    if args.duration.is_zero() {
        bail!("--duration must be more than zero");
    }
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut paired = report::Paired::default();
    let patience = Patience {
        repeat: args.repeat,
        retries: args.retries,
        quiet_timeout: args.quiet_timeout,
    };
    let keyfort_endpoint = |addr: SocketAddr| Endpoint {
        addr,
        host: addr.to_string(),
        access_key_id: child::KEYFORT_ACCESS_KEY_ID.to_owned(),
        secret_access_key: child::KEYFORT_SECRET_ACCESS_KEY.to_owned(),
        region: args.region.clone(),
    };

    if !args.no_noop {
        let (proc, addr) = child::start_noop()?;
        step(&format!("noop-server listening on {addr}"));
        let endpoint = keyfort_endpoint(addr);
        let body = kms::op_body(
            Op::Encrypt,
            "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000",
            "",
        )?;
        let job = load::Job {
            endpoint,
            target: kms::target_header(Op::Encrypt),
            body,
            connections: args.connections,
            warmup: args.warmup,
            duration: args.duration,
            server_pid: Some(proc.pid()),
        };
        measure("noop", Kind::Noop, Op::Encrypt, job, patience, &mut rows).await?;
        notes.push(format!(
            "noop: keyfort-bench's own do-nothing server on keyfort's stack, sent the same signed Encrypt requests; its reply body is {} bytes.",
            noop::REPLY.len()
        ));
    }

    let mut specs = Vec::new();
    if !args.no_keyfort {
        specs.push(Spec::Keyfort);
    }
    if args.moto {
        specs.push(Spec::Moto);
    }
    specs.extend(args.endpoints.iter().cloned().map(Spec::Url));

    // Each server is started just before it is measured and stopped right
    // after, so that it never competes with another for the cores.
    for spec in specs {
        let target = start(spec, &args).await?;
        let mut prepared = kms::setup(&target.endpoint, args.rotations)
            .await
            .with_context(|| format!("setting up {}", target.name))?;
        if args.ops.iter().any(|op| op.needs_extra_keys()) {
            prepared.extra =
                Some(kms::setup_extra(&target.endpoint).await.with_context(|| {
                    format!("making asymmetric and HMAC keys on {}", target.name)
                })?);
        }
        step(&format!(
            "{}: key {}, Encrypt reply {} bytes",
            target.name, prepared.key_id, prepared.encrypt_reply_bytes
        ));
        notes.push(format!(
            "{}: Encrypt reply body {} bytes.",
            target.name, prepared.encrypt_reply_bytes
        ));
        for &op in &args.ops {
            let job = load::Job {
                endpoint: target.endpoint.clone(),
                target: kms::target_header(op),
                body: kms::prepared_body(op, &prepared)?,
                connections: target.connections,
                warmup: args.warmup,
                duration: target.duration,
                server_pid: target.process.as_ref().map(child::ServerProcess::pid),
            };
            measure(&target.name, target.kind, op, job, patience, &mut rows).await?;
        }
        if args.authz && target.kind == Kind::Keyfort {
            paired.authz =
                Some(measure_authz(&target, &args, patience, &mut rows, &mut notes).await?);
        }
        // `target` (and its process) is dropped here: the next server gets the cores.
    }
    if args.no_audit_too {
        paired.audit = Some(measure_audit(&args, patience, &mut rows, &mut notes).await?);
    }
    for r in &rows {
        if r.rates.len() > 1 {
            let list: Vec<String> = r.rates.iter().map(|x| format!("{x:.0}")).collect();
            notes.push(format!(
                "{} {}: {} runs, req/s {}; the median run is shown.",
                r.target,
                r.op,
                r.rates.len(),
                list.join(", ")
            ));
        }
        if r.attempts as usize > r.rates.len() {
            notes.push(format!(
                "{} {}: {} measurement(s) repeated because other processes competed for the CPU; the least disturbed one was kept.",
                r.target,
                r.op,
                r.attempts as usize - r.rates.len()
            ));
        }
        if r.m.reconnects > 0 {
            notes.push(format!(
                "{} {}: the server closed the connection {} times (`Connection: close`); the client reopened it each time. Connecting is outside the latency figures but inside req/s.",
                r.target, r.op, r.m.reconnects
            ));
        }
    }
    Ok(Outcome {
        rows,
        notes,
        paired,
    })
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn run_command(args: RunArgs) -> anyhow::Result<ExitCode> {
    let command = std::env::args()
        .map(|a| report::shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let markdown = args.markdown.clone();
    let (warmup, duration, repeat) = (args.warmup, args.duration, args.repeat.max(1));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(async {
        tokio::select! {
            // Returning early drops `run`'s future and with it every child guard.
            r = run(args) => r.map(Some),
            () = interrupted() => Ok(None),
        }
    });
    // Connection tasks still running after an early return end with the runtime.
    runtime.shutdown_timeout(Duration::from_secs(1));
    let Some(Outcome {
        rows,
        notes,
        paired,
    }) = outcome?
    else {
        eprintln!("keyfort-bench: interrupted; servers stopped");
        return Ok(ExitCode::from(130));
    };
    report::print(&rows, &paired);
    if let Some(path) = markdown {
        let meta = report::Meta {
            command,
            warmup,
            duration,
            repeat,
            notes,
        };
        report::write_markdown(&path, &report::markdown(&rows, &paired, &meta))?;
        eprintln!("keyfort-bench: wrote {}", path.display());
    }
    let failed = rows.iter().filter(|r| r.m.errors > 0).count();
    if failed > 0 {
        eprintln!("keyfort-bench: {failed} measurement(s) had errors");
        return Ok(ExitCode::from(3));
    }
    if paired.authz.is_some()
        && report::authz_goal(&rows, paired.authz.as_ref())
            .figure
            .is_none()
    {
        eprintln!("keyfort-bench: --authz measured no root Encrypt in any round");
        return Ok(ExitCode::from(3));
    }
    if paired.audit.is_some()
        && report::audit_goal(&rows, paired.audit.as_ref())
            .figure
            .is_none()
    {
        eprintln!("keyfort-bench: --no-audit-too measured no --no-audit Encrypt in any round");
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::NoopServer { listen } => noop::run(listen).map(|()| ExitCode::SUCCESS),
        Cmd::Run(args) => run_command(*args),
        Cmd::RsaBaseline { seconds } => rsa_baseline(seconds),
        Cmd::Inproc(args) => inproc::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keyfort-bench: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "keyfort-bench",
            "run",
            "--ops",
            "encrypt,generate-data-key",
            "--duration",
            "1s",
        ])
        .expect("parses");
        let Cmd::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!(args.ops, vec![Op::Encrypt, Op::GenerateDataKey]);
        assert_eq!(args.connections, 32);
        assert!(!args.authz);
        let cli =
            Cli::try_parse_from(["keyfort-bench", "run", "--authz", "--authz-window", "500ms"])
                .expect("parses");
        let Cmd::Run(args) = cli.command else {
            panic!("not run")
        };
        assert!(args.authz);
        assert_eq!(args.paired_rounds, 12);
        assert_eq!(args.paired_window, Duration::from_millis(500));
        let cli = Cli::try_parse_from([
            "keyfort-bench",
            "run",
            "--no-audit-too",
            "--paired-rounds",
            "20",
            "--paired-window",
            "2s",
        ])
        .expect("parses");
        let Cmd::Run(args) = cli.command else {
            panic!("not run")
        };
        assert!(args.no_audit_too);
        assert_eq!(args.paired_rounds, 20);
        assert_eq!(args.paired_window, Duration::from_secs(2));
    }

    #[test]
    fn authz_warm_up_is_whole_rounds() {
        let s = Duration::from_secs;
        assert_eq!(paired_warmup_rounds(s(2), s(1)), 1);
        assert_eq!(paired_warmup_rounds(s(3), s(1)), 2);
        assert_eq!(paired_warmup_rounds(s(0), s(1)), 1);
        assert_eq!(paired_warmup_rounds(s(2), Duration::from_millis(250)), 4);
    }
}
