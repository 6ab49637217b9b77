//! The results: a table on the terminal, the goals checked against them, and
//! a markdown section for `docs/benchmarks.md`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Context;

use crate::load::{DISTURBED, Measured};

/// What kind of server a row measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The do-nothing server on keyfort's stack.
    Noop,
    /// keyfort, started by the bench.
    Keyfort,
    /// `--no-audit-too`: keyfort started with `--no-audit` (the paired comparison's
    /// baseline).
    AuditOff,
    /// `--no-audit-too`: keyfort with the audit trail, paired with [`Kind::AuditOff`].
    AuditOn,
    /// moto, started by the bench.
    Moto,
    /// An endpoint given with `--endpoint`.
    Endpoint,
    /// `--authz`: Encrypt as the account root on a key with the default policy
    /// (the paired comparison's baseline).
    AuthzRoot,
    /// `--authz`: Encrypt as an IAM user under realistic identity and key policies.
    AuthzUser,
}

/// One line of the table.
#[derive(Debug)]
pub struct Row {
    /// The target's name.
    pub target: String,
    /// Its kind.
    pub kind: Kind,
    /// The operation.
    pub op: &'static str,
    /// Connections used.
    pub connections: usize,
    /// What was measured.
    pub m: Measured,
    /// How many times it was measured, disturbed measurements included.
    pub attempts: u32,
    /// The throughput of each run (with `--repeat`), ascending.
    pub rates: Vec<f64>,
}

/// A performance goal and whether the run met it.
#[derive(Debug)]
pub struct Goal {
    /// What is compared.
    pub name: &'static str,
    /// The figure, formatted; `None` when the run lacks the rows.
    pub figure: Option<String>,
    /// The goal, formatted.
    pub target: &'static str,
    /// Whether it was met; `None` when it could not be computed.
    pub met: Option<bool>,
}

/// A paired comparison: `run --authz` (issue 4) or `run --no-audit-too` (issue 5).
#[derive(Debug)]
pub struct PairedRun {
    /// What is compared, for the report ("Authorization (issue 4), paired on one
    /// server").
    pub heading: &'static str,
    /// The sides' names, A (the baseline) then B.
    pub sides: [&'static str; 2],
    /// The sides' short names, for the order column.
    pub short: [&'static str; 2],
    /// Each measured round's Encrypt rates, `[A, B]`, requests per second.
    pub rounds: Vec<[f64; 2]>,
    /// Each round's CPU use by other processes, in cores.
    pub round_other_cores: Vec<Option<f64>>,
    /// The length of one window.
    pub window: Duration,
    /// Unmeasured rounds before them.
    pub warmup_rounds: usize,
    /// Connections used.
    pub connections: usize,
}

/// The paired comparisons a run made.
#[derive(Debug, Default)]
pub struct Paired {
    /// `--authz`.
    pub authz: Option<PairedRun>,
    /// `--no-audit-too`.
    pub audit: Option<PairedRun>,
}

impl Paired {
    fn all(&self) -> impl Iterator<Item = &PairedRun> {
        self.authz.iter().chain(self.audit.iter())
    }
}

/// The authorization goal: the IAM user at least this share of the root's rate.
pub const AUTHZ_GOAL: f64 = 0.85;

/// The name of the authorization goal's line.
const AUTHZ_GOAL_NAME: &str =
    "keyfort Encrypt as IAM user with realistic policies ÷ as root with default policy";

/// The audit trail's goal: Encrypt with the trail at least this share of the rate
/// without it.
pub const AUDIT_GOAL: f64 = 0.80;

/// The name of the audit trail's goal line.
const AUDIT_GOAL_NAME: &str = "keyfort Encrypt with the audit trail ÷ --no-audit (paired)";

/// A goal from paired rounds: the median of the per-round ratios B ÷ A, at least
/// `goal`. Errors on either side (rows of `kinds`) fail it.
fn paired_goal(
    name: &'static str,
    target: &'static str,
    goal: f64,
    rows: &[Row],
    kinds: [Kind; 2],
    run: Option<&PairedRun>,
) -> Goal {
    let summary = run.and_then(|a| crate::stats::summarize(&a.rounds));
    let clean = rows
        .iter()
        .filter(|r| kinds.contains(&r.kind))
        .all(|r| r.m.errors == 0);
    match summary {
        Some(s) => Goal {
            name,
            figure: Some(format!("{:.0} %", s.median * 100.0)),
            target,
            met: Some(s.median >= goal && clean),
        },
        None => Goal {
            name,
            figure: None,
            target,
            // Asked for but nothing measured (every window empty) is a failure.
            met: run.map(|_| false),
        },
    }
}

/// Issue 4's goal from the paired rounds: the median of the per-round ratios.
/// Errors on either side fail it.
pub fn authz_goal(rows: &[Row], authz: Option<&PairedRun>) -> Goal {
    paired_goal(
        AUTHZ_GOAL_NAME,
        "≥ 85 %",
        AUTHZ_GOAL,
        rows,
        [Kind::AuthzRoot, Kind::AuthzUser],
        authz,
    )
}

/// Issue 5's goal from the paired rounds (`--no-audit` A, the trail B).
pub fn audit_goal(rows: &[Row], audit: Option<&PairedRun>) -> Goal {
    paired_goal(
        AUDIT_GOAL_NAME,
        "≥ 80 %",
        AUDIT_GOAL,
        rows,
        [Kind::AuditOff, Kind::AuditOn],
        audit,
    )
}

fn pct(v: f64) -> String {
    format!("{:.0} %", v * 100.0)
}

/// One line per round and the summary, for the terminal and the markdown.
fn paired_lines(a: &PairedRun) -> (String, Vec<String>) {
    let ratios = crate::stats::ratios(&a.rounds);
    let mut lines = Vec::new();
    for (i, (rates, ratio)) in a.rounds.iter().zip(&ratios).enumerate() {
        let order = match crate::stats::order(i + a.warmup_rounds)[0] {
            crate::stats::Side::A => format!("{}, {}", a.short[0], a.short[1]),
            crate::stats::Side::B => format!("{}, {}", a.short[1], a.short[0]),
        };
        lines.push(format!(
            "| {} | {order} | {:.0} | {:.0} | {} | {} |",
            i + 1,
            rates[0],
            rates[1],
            ratio.map_or_else(|| "-".to_owned(), |r| format!("{:.1} %", r * 100.0)),
            cores(a.round_other_cores.get(i).copied().flatten()),
        ));
    }
    let summary = match crate::stats::summarize(&a.rounds) {
        Some(s) => format!(
            "{} rounds of two {} s windows ({}, {}; the order swapped each round) after {} warm-up round(s), {} connections: median of the per-round ratios {:.1} %, interquartile range {:.1}-{:.1} %, range {:.1}-{:.1} %; median rates {:.0} ({}) and {:.0} ({}) req/s.",
            s.rounds,
            a.window.as_secs_f64(),
            a.sides[0],
            a.sides[1],
            a.warmup_rounds,
            a.connections,
            s.median * 100.0,
            s.q1 * 100.0,
            s.q3 * 100.0,
            s.min * 100.0,
            s.max * 100.0,
            s.a_median,
            a.sides[0],
            s.b_median,
            a.sides[1]
        ),
        None => format!("no round measured any {} Encrypt", a.sides[0]),
    };
    let quiet: Vec<[f64; 2]> = a
        .rounds
        .iter()
        .zip(&a.round_other_cores)
        .filter(|(_, o)| o.is_none_or(|c| c <= DISTURBED))
        .map(|(r, _)| *r)
        .collect();
    let summary = if quiet.len() == a.rounds.len() {
        summary
    } else {
        let q = crate::stats::summarize(&quiet).map_or_else(
            || "none measured".to_owned(),
            |q| format!("median of their ratios {:.1} %", q.median * 100.0),
        );
        format!(
            "{summary} {} of {} rounds had other processes above {:.0} % of a core (the goal still uses every round); the {} others: {q}.",
            a.rounds.len() - quiet.len(),
            a.rounds.len(),
            DISTURBED * 100.0,
            quiet.len(),
        )
    };
    (summary, lines)
}

fn find_row<'a>(rows: &'a [Row], kind: Kind, op: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.kind == kind && r.op == op)
}

/// The goals: the first benchmark round's three, the audit trail's, authorization's.
pub fn goals(rows: &[Row], paired: &Paired) -> Vec<Goal> {
    let kf = find_row(rows, Kind::Keyfort, "Encrypt");
    let noop = find_row(rows, Kind::Noop, "Encrypt");
    let moto = find_row(rows, Kind::Moto, "Encrypt");
    let clean = |rs: &[&Row]| rs.iter().all(|r| r.m.errors == 0);

    let vs_noop = match (kf, noop) {
        (Some(k), Some(n)) if n.m.rate() > 0.0 => {
            let ratio = k.m.rate() / n.m.rate();
            Goal {
                name: "keyfort Encrypt req/s ÷ noop req/s",
                figure: Some(format!("{:.0} %", ratio * 100.0)),
                target: "≥ 40 %",
                met: Some(ratio >= 0.40 && clean(&[k, n])),
            }
        }
        _ => Goal {
            name: "keyfort Encrypt req/s ÷ noop req/s",
            figure: None,
            target: "≥ 40 %",
            met: None,
        },
    };
    let vs_moto = match (kf, moto) {
        (Some(k), Some(m)) if m.m.rate() > 0.0 => {
            let ratio = k.m.rate() / m.m.rate();
            Goal {
                name: "keyfort Encrypt req/s ÷ moto Encrypt req/s",
                figure: Some(format!("{ratio:.0}×")),
                target: "≥ 50×",
                met: Some(ratio >= 50.0 && clean(&[k, m])),
            }
        }
        _ => Goal {
            name: "keyfort Encrypt req/s ÷ moto Encrypt req/s",
            figure: None,
            target: "≥ 50×",
            met: None,
        },
    };
    let keyfort_rows: Vec<&Row> = rows.iter().filter(|r| r.kind == Kind::Keyfort).collect();
    let worst = keyfort_rows
        .iter()
        .filter_map(|r| r.m.quantile_ms(0.99).map(|p| (p, r.op)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let p99 = match worst {
        Some((p, op)) => Goal {
            name: "keyfort p99 latency (worst op)",
            figure: Some(format!("{p:.2} ms ({op})")),
            target: "< 10 ms",
            met: Some(p < 10.0 && clean(&keyfort_rows)),
        },
        None => Goal {
            name: "keyfort p99 latency (worst op)",
            figure: None,
            target: "< 10 ms",
            met: None,
        },
    };
    vec![
        vs_noop,
        vs_moto,
        p99,
        audit_goal(rows, paired.audit.as_ref()),
        authz_goal(rows, paired.authz.as_ref()),
    ]
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**NOT met**",
        None => "not measured",
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"))
}

fn cores(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.0} %", v * 100.0))
}

fn errors_cell(m: &Measured) -> String {
    if m.errors == 0 {
        "0".to_owned()
    } else {
        format!("**{} ERRORS**", m.errors)
    }
}

/// Prints the table and the goals to stdout.
pub fn print(rows: &[Row], paired: &Paired) {
    println!();
    println!(
        "{:<28} {:<16} {:>5} {:>10} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7}",
        "target",
        "op",
        "conns",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "srv cpu",
        "cli cpu",
        "oth cpu"
    );
    for r in rows {
        println!(
            "{:<28} {:<16} {:>5} {:>10.0} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7}",
            r.target,
            r.op,
            r.connections,
            r.m.rate(),
            ms(r.m.quantile_ms(0.5)),
            ms(r.m.quantile_ms(0.99)),
            ms(r.m.max_ms()),
            r.m.errors,
            cores(r.m.server_cores),
            cores(r.m.client_cores),
            cores(r.m.other_cores),
        );
    }
    println!();
    for g in goals(rows, paired) {
        println!(
            "{:<46} {:>16}  (goal {}) {}",
            g.name,
            g.figure.as_deref().unwrap_or("-"),
            g.target,
            verdict(g.met).trim_matches('*')
        );
    }
    for a in paired.all() {
        let (summary, _) = paired_lines(a);
        let ratios: Vec<String> = crate::stats::ratios(&a.rounds)
            .into_iter()
            .map(|r| r.map_or_else(|| "-".to_owned(), pct))
            .collect();
        println!(
            "\n{}, {} ÷ {} per round: {}",
            a.heading,
            a.sides[1],
            a.sides[0],
            ratios.join(", ")
        );
        println!("{summary}");
    }
    for r in rows
        .iter()
        .filter(|r| r.m.other_cores.is_some_and(|c| c > DISTURBED))
    {
        eprintln!(
            "\n!!! {} {}: other processes used {} of a core during the window; figures are low",
            r.target,
            r.op,
            cores(r.m.other_cores)
        );
    }
    for r in rows.iter().filter(|r| r.m.errors > 0) {
        eprintln!(
            "\n!!! {} {}: {} ERRORS; first: {}",
            r.target,
            r.op,
            r.m.errors,
            r.m.error_sample.as_deref().unwrap_or("?")
        );
    }
}

/// Facts about the run for the markdown section.
#[derive(Debug)]
pub struct Meta {
    /// The command line, shell-quoted.
    pub command: String,
    /// Warm-up per measurement.
    pub warmup: Duration,
    /// Measured window per measurement.
    pub duration: Duration,
    /// Runs per row (the median is shown).
    pub repeat: u32,
    /// Free-form lines added under the table.
    pub notes: Vec<String>,
}

/// The markdown section for a run.
pub fn markdown(rows: &[Row], paired: &Paired, meta: &Meta) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## Run of {}\n", utc_now());
    let _ = writeln!(s, "- Machine: {}", machine());
    let _ = writeln!(s, "- Command: `{}`", meta.command);
    let _ = writeln!(s, "- Commit: {}", commit());
    let _ = writeln!(
        s,
        "- Each row: {} s warm-up, then {} s measured{}; keep-alive HTTP/1.1, requests back to back on each connection.\n",
        meta.warmup.as_secs_f64(),
        meta.duration.as_secs_f64(),
        if meta.repeat > 1 {
            format!(", {} runs, the run of median req/s shown", meta.repeat)
        } else {
            String::new()
        }
    );
    s.push_str("| target | op | connections | req/s | p50 ms | p99 ms | max ms | errors | server CPU | bench CPU | other CPU |\n");
    s.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
            r.target,
            r.op,
            r.connections,
            r.m.rate(),
            ms(r.m.quantile_ms(0.5)),
            ms(r.m.quantile_ms(0.99)),
            ms(r.m.max_ms()),
            errors_cell(&r.m),
            cores(r.m.server_cores),
            cores(r.m.client_cores),
            cores(r.m.other_cores),
        );
    }
    let _ = write!(
        s,
        "\nCPU columns: CPU time used during the measured window ÷ its length (100 % = one core \
         fully busy; the machine has {} cores). Other CPU: all other processes on the machine \
         together (should be near 0; a large figure means something competed with the run). \
         None of them include the kernel's loopback network work (softirq) or kernel threads \
         (such as the journalling behind a server's fsyncs).\n\n",
        nproc()
    );
    s.push_str("| goal | figure | target | status |\n|---|---:|---:|---|\n");
    for g in goals(rows, paired) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            g.name,
            g.figure.as_deref().unwrap_or("-"),
            g.target,
            verdict(g.met)
        );
    }
    for a in paired.all() {
        let (summary, lines) = paired_lines(a);
        let _ = writeln!(s, "\n**{}:** {summary}\n", a.heading);
        let _ = writeln!(
            s,
            "| round | order | {} req/s | {} req/s | {} ÷ {} | other CPU |",
            a.sides[0], a.sides[1], a.short[1], a.short[0]
        );
        s.push_str("|---:|---|---:|---:|---:|---:|\n");
        for l in lines {
            s.push_str(&l);
            s.push('\n');
        }
    }
    let errored: Vec<&Row> = rows.iter().filter(|r| r.m.errors > 0).collect();
    if !errored.is_empty() {
        s.push_str("\n**Errors:**\n\n");
        for r in errored {
            let _ = writeln!(
                s,
                "- **{} {}: {} errors.** First: `{}`",
                r.target,
                r.op,
                r.m.errors,
                r.m.error_sample.as_deref().unwrap_or("?").replace('`', "'")
            );
        }
    }
    let disturbed: Vec<&Row> = rows
        .iter()
        .filter(|r| r.m.other_cores.is_some_and(|c| c > DISTURBED))
        .collect();
    if !disturbed.is_empty() {
        s.push_str("\n**Other processes competed for the CPU during:**\n\n");
        for r in disturbed {
            let _ = writeln!(
                s,
                "- **{} {}** ({} of a core): treat these figures as low.",
                r.target,
                r.op,
                cores(r.m.other_cores)
            );
        }
    }
    if !meta.notes.is_empty() {
        s.push('\n');
        for n in &meta.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

/// The line after which `--markdown` replaces a file's contents.
pub const MARKER: &str = "<!-- keyfort-bench results: everything below is replaced by `keyfort-bench run --markdown` -->";

/// Writes `section` into `path`: below [`MARKER`] if the file has it
/// (replacing what was there), else appended after a new marker.
pub fn write_markdown(path: &Path, section: &str) -> anyhow::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let head = match existing.find(MARKER) {
        Some(i) => existing[..i + MARKER.len()].to_owned(),
        None if existing.is_empty() => format!("# keyfort benchmarks\n\n{MARKER}"),
        None => format!("{}\n\n{MARKER}", existing.trim_end()),
    };
    let text = format!("{head}\n\n{section}");
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Quotes `arg` for a POSIX shell when it needs it.
pub fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b))
    {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn utc_now() -> String {
    // keyfort-sigv4 already formats UTC timestamps: 20240102T030405Z.
    let t = keyfort_sigv4::format_amz_date(crate::kms::unix_now());
    match (
        t.get(0..4),
        t.get(4..6),
        t.get(6..8),
        t.get(9..11),
        t.get(11..13),
    ) {
        (Some(y), Some(mo), Some(d), Some(h), Some(mi)) => format!("{y}-{mo}-{d} {h}:{mi} UTC"),
        _ => t,
    }
}

fn nproc() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(
            || "unknown memory".to_owned(),
            |kb| format!("{:.1} GiB memory", kb as f64 / (1024.0 * 1024.0)),
        );
    format!(
        "{} CPUs (nproc), {cpu}, {mem}; {}",
        nproc(),
        std::env::consts::ARCH
    )
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn commit() -> String {
    let Some(c) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown (not a git checkout)".to_owned();
    };
    let status = git(&["status", "--porcelain", "--untracked-files=no"]).unwrap_or_default();
    let dirty: Vec<&str> = status
        .lines()
        .filter_map(|l| l.get(3..))
        .filter(|p| *p != "Cargo.lock")
        .collect();
    match dirty.len() {
        0 => format!("`{c}`"),
        n if n <= 8 => format!("`{c}` plus uncommitted changes to {}", dirty.join(", ")),
        n => format!("`{c}` plus uncommitted changes to {n} files"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: Kind, op: &'static str, ok: u64, p99_us: u32) -> Row {
        Row {
            target: format!("{kind:?}"),
            kind,
            op,
            connections: 1,
            m: Measured {
                ok,
                latencies_us: vec![p99_us; 10],
                window: Duration::from_secs(1),
                ..Measured::default()
            },
            attempts: 1,
            rates: vec![ok as f64],
        }
    }

    #[test]
    fn goals_compare_the_right_rows() {
        let rows = vec![
            row(Kind::Noop, "Encrypt", 1000, 100),
            row(Kind::Keyfort, "Encrypt", 500, 2000),
            row(Kind::Keyfort, "Decrypt", 500, 12000),
            row(Kind::Moto, "Encrypt", 5, 50000),
        ];
        let g = goals(&rows, &Paired::default());
        assert_eq!(g[0].met, Some(true));
        assert_eq!(g[0].figure.as_deref(), Some("50 %"));
        assert_eq!(g[1].met, Some(true));
        assert_eq!(g[1].figure.as_deref(), Some("100×"));
        assert_eq!(g[2].met, Some(false));
        assert_eq!(g[2].figure.as_deref(), Some("12.00 ms (Decrypt)"));
        assert_eq!(g[3].met, None, "no --no-audit row: not measured");
    }

    #[test]
    fn the_audit_goal_uses_the_paired_rounds() {
        let rows = vec![
            row(Kind::Keyfort, "Encrypt", 300, 2000),
            row(Kind::AuditOff, "Encrypt", 1000, 2000),
            row(Kind::AuditOn, "Encrypt", 850, 30000),
        ];
        let audit = |rounds| Paired {
            audit: Some(PairedRun {
                heading: "Audit trail",
                sides: ["--no-audit", "audited"],
                short: ["off", "on"],
                ..authz_run(rounds)
            }),
            authz: None,
        };
        let g = goals(
            &rows,
            &audit(vec![[1000.0, 850.0], [1000.0, 820.0], [900.0, 800.0]]),
        );
        assert_eq!(g[3].name, AUDIT_GOAL_NAME);
        assert_eq!(g[3].figure.as_deref(), Some("85 %"));
        assert_eq!(g[3].met, Some(true));
        let low = goals(
            &rows,
            &audit(vec![[1000.0, 790.0], [1000.0, 600.0], [1000.0, 900.0]]),
        );
        assert_eq!(low[3].met, Some(false));
        // The paired rows are not keyfort's rows for the p99 goal, nor its rate.
        assert_eq!(g[2].figure.as_deref(), Some("2.00 ms (Encrypt)"));
        // Errors on either side fail it.
        let mut bad = rows;
        bad[2].m.errors = 1;
        assert_eq!(
            goals(&bad, &audit(vec![[1000.0, 900.0]]))[3].met,
            Some(false)
        );
    }

    #[test]
    fn errors_fail_a_goal() {
        let mut rows = vec![
            row(Kind::Noop, "Encrypt", 1000, 100),
            row(Kind::Keyfort, "Encrypt", 900, 100),
        ];
        rows[1].m.errors = 1;
        assert_eq!(goals(&rows, &Paired::default())[0].met, Some(false));
        assert_eq!(goals(&rows, &Paired::default())[1].met, None);
    }

    fn authz(a: PairedRun) -> Paired {
        Paired {
            authz: Some(a),
            audit: None,
        }
    }

    fn authz_run(rounds: Vec<[f64; 2]>) -> PairedRun {
        let n = rounds.len();
        PairedRun {
            heading: "Authorization",
            sides: ["root", "IAM user"],
            short: ["root", "user"],
            rounds,
            round_other_cores: vec![Some(0.0); n],
            window: Duration::from_secs(1),
            warmup_rounds: 1,
            connections: 32,
        }
    }

    #[test]
    fn the_authz_goal_uses_the_median_of_per_round_ratios() {
        let rows = vec![
            row(Kind::AuthzRoot, "Encrypt", 1000, 100),
            row(Kind::AuthzUser, "Encrypt", 900, 100),
        ];
        // One wild round does not move the median.
        let a = authz(authz_run(vec![
            [1000.0, 900.0],
            [1000.0, 880.0],
            [400.0, 1000.0],
            [1000.0, 860.0],
            [1000.0, 700.0],
        ]));
        let g = goals(&rows, &a);
        assert_eq!(g[4].figure.as_deref(), Some("88 %"));
        assert_eq!(g[4].met, Some(true));
        let low = authz_run(vec![[1000.0, 840.0], [1000.0, 800.0], [1000.0, 900.0]]);
        assert_eq!(goals(&rows, &authz(low))[4].met, Some(false));
        // Not asked for: not measured; asked for but nothing measured: not met.
        assert_eq!(goals(&rows, &Paired::default())[4].met, None);
        assert_eq!(
            goals(&rows, &authz(authz_run(vec![[0.0, 0.0]])))[4].met,
            Some(false)
        );
        let (summary, lines) = paired_lines(a.authz.as_ref().expect("authz"));
        assert_eq!(lines.len(), 5);
        assert!(
            lines[0].starts_with("| 1 | user, root | 1000 | 900 | 90.0 % |"),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("| 2 | root, user |"), "{}", lines[1]);
        assert!(
            summary.contains("median of the per-round ratios 88.0 %"),
            "{summary}"
        );
        assert!(!summary.contains("other processes"), "{summary}");
        // Rounds during which other processes used the CPU are named, and the median
        // of the others given beside the goal's.
        let mut busy = authz_run(vec![[1000.0, 900.0], [1000.0, 500.0], [1000.0, 800.0]]);
        busy.round_other_cores[1] = Some(0.9);
        let (summary, _) = paired_lines(&busy);
        assert!(
            summary.contains("median of the per-round ratios 80.0 %"),
            "{summary}"
        );
        assert!(
            summary.contains("1 of 3 rounds had other processes above 15 %"),
            "{summary}"
        );
        assert!(
            summary.contains("the 2 others: median of their ratios 85.0 %"),
            "{summary}"
        );
    }

    #[test]
    fn errors_fail_the_authz_goal() {
        // An AccessDenied user is fast and wrong: its errors fail the goal.
        let mut rows = vec![
            row(Kind::AuthzRoot, "Encrypt", 1000, 100),
            row(Kind::AuthzUser, "Encrypt", 1000, 100),
        ];
        rows[1].m.errors = 5;
        let g = goals(&rows, &authz(authz_run(vec![[1000.0, 1000.0]])));
        assert_eq!(g[4].figure.as_deref(), Some("100 %"));
        assert_eq!(g[4].met, Some(false));
    }

    #[test]
    fn markdown_replaces_below_the_marker_only() {
        let dir = crate::child::TempDir::new("keyfort-bench-md").expect("dir");
        let path = dir.path().join("b.md");
        std::fs::write(&path, "# Title\n\nPreface.\n").expect("write");
        write_markdown(&path, "first\n").expect("md");
        write_markdown(&path, "second\n").expect("md");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("# Title\n\nPreface.\n\n"));
        assert!(text.contains("second") && !text.contains("first"));
        assert_eq!(text.matches(MARKER).count(), 1);
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("--duration=10s"), "--duration=10s");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
