//! The load loop: N keep-alive connections, each one tokio task sending the
//! same pre-signed request back to back, a warm-up, then a measured window.
//!
//! The client shares the machine's cores with the server, so it is kept
//! lean: each task signs its request once (and again every minute, well
//! inside SigV4's 15-minute window) and resends a clone of it; the body is a
//! shared `Bytes`; each task drives its own hyper connection inside the same
//! task (no separate connection task, so a reply wakes one task, not two);
//! latencies go into a per-task `Vec<u32>` of microseconds, merged at the end.

use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::child;
use crate::kms::{self, Endpoint};

/// How often a connection re-signs its request.
const RESIGN_EVERY: Duration = Duration::from_secs(60);

/// One measurement: one request shape against one endpoint.
#[derive(Debug)]
pub struct Job {
    /// Where to send.
    pub endpoint: Endpoint,
    /// The `X-Amz-Target` value.
    pub target: &'static str,
    /// The request body.
    pub body: Bytes,
    /// How many connections (and tasks).
    pub connections: usize,
    /// Time before measuring starts.
    pub warmup: Duration,
    /// Length of the measured window.
    pub duration: Duration,
    /// The server's process id, to read its CPU time (children only).
    pub server_pid: Option<u32>,
}

/// What one measurement found.
#[derive(Debug, Default)]
pub struct Measured {
    /// 200 replies completed inside the window.
    pub ok: u64,
    /// Non-200 replies and transport failures, warm-up included.
    pub errors: u64,
    /// The first error seen, for the report.
    pub error_sample: Option<String>,
    /// Connections the server closed and the client reopened.
    pub reconnects: u64,
    /// Latencies of the 200 replies in the window, microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// The window's actual length.
    pub window: Duration,
    /// The bench process's CPU use during the window, in cores.
    pub client_cores: Option<f64>,
    /// The server's CPU use during the window, in cores.
    pub server_cores: Option<f64>,
    /// CPU use during the window, in cores, of every process on the machine
    /// other than the server and this client (kernel threads and softirq
    /// excluded): a sign that something else competed for the cores.
    pub other_cores: Option<f64>,
}

impl Measured {
    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        let secs = self.window.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    /// The `q` quantile (nearest rank) in milliseconds; `None` without data.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let n = self.latencies_us.len();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        Some(f64::from(self.latencies_us[rank - 1]) / 1000.0)
    }

    /// The largest latency in milliseconds.
    pub fn max_ms(&self) -> Option<f64> {
        self.latencies_us.last().map(|&us| f64::from(us) / 1000.0)
    }
}

/// The shared schedule.
#[derive(Clone, Copy, Debug)]
struct Window {
    start: Instant,
    end: Instant,
}

/// What one connection task found.
#[derive(Debug, Default)]
struct TaskStats {
    ok: u64,
    errors: u64,
    error_sample: Option<String>,
    reconnects: u64,
    latencies_us: Vec<u32>,
}

impl TaskStats {
    fn error(&mut self, what: impl FnOnce() -> String) {
        self.errors += 1;
        if self.error_sample.is_none() {
            self.error_sample = Some(what());
        }
    }
}

/// Other processes' CPU use (in cores) above which a measurement counts as
/// disturbed.
pub const DISTURBED: f64 = 0.15;

/// Below this CPU use (in cores) of the whole machine, it counts as quiet.
const QUIET: f64 = 0.10;

/// Waits until the whole machine has been quiet for a second (other
/// sessions may be compiling on it), at most `timeout`. Returns whether it
/// became quiet.
pub async fn wait_for_quiet(timeout: Duration) -> bool {
    let give_up = Instant::now() + timeout;
    let mut said = false;
    loop {
        let (Some(a), t0) = (child::machine_busy(), Instant::now()) else {
            return true;
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        let Some(b) = child::machine_busy() else {
            return true;
        };
        let busy = b.saturating_sub(a).as_secs_f64() / t0.elapsed().as_secs_f64();
        if busy < QUIET {
            return true;
        }
        if Instant::now() >= give_up {
            return false;
        }
        if !said {
            eprintln!(
                "keyfort-bench:   waiting for the machine to be quiet ({:.0} % of a core busy)",
                busy * 100.0
            );
            said = true;
        }
    }
}

/// Runs `job`: spawns the connections, waits out warm-up and window, merges.
pub async fn run(job: Arc<Job>) -> anyhow::Result<Measured> {
    let start = Instant::now() + job.warmup;
    let window = Window {
        start,
        end: start + job.duration,
    };
    // Sign once up front so that a signing error stops the run here.
    let template = kms::signed_request(&job.endpoint, job.target, &job.body)?;
    drop(template);
    let mut tasks = Vec::with_capacity(job.connections);
    for _ in 0..job.connections {
        let job = Arc::clone(&job);
        tasks.push(tokio::spawn(async move { connection(&job, window).await }));
    }

    tokio::time::sleep_until(window.start.into()).await;
    let me = std::process::id();
    let cpu0 = (
        child::cpu_time(me),
        job.server_pid.and_then(child::cpu_time),
        child::machine_busy(),
        child::kernel_threads_cpu(),
    );
    let t0 = Instant::now();
    tokio::time::sleep_until(window.end.into()).await;
    let cpu1 = (
        child::cpu_time(me),
        job.server_pid.and_then(child::cpu_time),
        child::machine_busy(),
        child::kernel_threads_cpu(),
    );
    let elapsed = t0.elapsed();

    let mut m = Measured {
        window: job.duration,
        ..Measured::default()
    };
    let cores = |a: Option<Duration>, b: Option<Duration>| {
        Some(b?.saturating_sub(a?).as_secs_f64() / elapsed.as_secs_f64())
    };
    m.client_cores = cores(cpu0.0, cpu1.0);
    m.server_cores = cores(cpu0.1, cpu1.1);
    let kernel = cores(cpu0.3, cpu1.3).unwrap_or(0.0);
    m.other_cores = cores(cpu0.2, cpu1.2).map(|all| {
        (all - kernel - m.client_cores.unwrap_or(0.0) - m.server_cores.unwrap_or(0.0)).max(0.0)
    });
    let mut all = Vec::new();
    for task in tasks {
        let s = task.await?;
        m.ok += s.ok;
        m.errors += s.errors;
        m.reconnects += s.reconnects;
        if m.error_sample.is_none() {
            m.error_sample = s.error_sample;
        }
        all.push(s.latencies_us);
    }
    let mut lat = Vec::with_capacity(all.iter().map(Vec::len).sum());
    for v in all {
        lat.extend_from_slice(&v);
    }
    lat.sort_unstable();
    m.latencies_us = lat;
    Ok(m)
}

/// A request signed at `at`.
struct Signed {
    req: Request<Full<Bytes>>,
    at: Instant,
}

/// One connection's task: (re)connects and sends until the window ends.
async fn connection(job: &Job, window: Window) -> TaskStats {
    let mut stats = TaskStats {
        latencies_us: Vec::with_capacity(16 * 1024),
        ..TaskStats::default()
    };
    let mut signed = match kms::signed_request(&job.endpoint, job.target, &job.body) {
        Ok(req) => Signed {
            req,
            at: Instant::now(),
        },
        Err(e) => {
            stats.error(|| format!("{e:#}"));
            return stats;
        }
    };
    let mut first = true;
    while Instant::now() < window.end {
        let (mut sender, conn) = match kms::connect(job.endpoint.addr).await {
            Ok(c) => c,
            Err(e) => {
                stats.error(|| format!("{e:#}"));
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        if !first {
            stats.reconnects += 1;
        }
        first = false;
        let mut conn = pin!(drive(conn));
        let (ended, conn_error) = {
            let mut sending = pin!(send_loop(job, window, &mut sender, &mut signed, &mut stats));
            // The connection is driven here, in the same task as the requests.
            tokio::select! {
                biased;
                res = &mut conn => {
                    // The server closed the connection (moto sends `Connection:
                    // close` on every reply): finish the reply in flight, if any;
                    // the next `ready()` then fails.
                    (sending.await, res.err())
                }
                ended = &mut sending => (ended, None),
            }
        };
        if let Some(e) = conn_error {
            stats.error(|| format!("connection: {e}"));
        }
        if ended {
            break;
        }
    }
    stats
}

/// Drives a connection to its end. Unlike awaiting the `Connection` in
/// place, this drops it as soon as it completes (an async fn drops what it
/// owns when it returns): once the server has closed the connection, the
/// `SendRequest` sees that and `ready()` fails instead of waiting forever.
pub(crate) async fn drive(
    conn: Connection<TokioIo<TcpStream>, Full<Bytes>>,
) -> Result<(), hyper::Error> {
    conn.await
}

/// What one request on a keep-alive connection came to.
pub(crate) enum Exchange {
    /// A 200 reply, read to its end.
    Ok,
    /// Another status, with its body read: the connection can go on.
    Refused(String),
    /// The connection broke: the request could not be sent or its reply not read.
    Broken(String),
}

/// Sends `req` and reads its reply to the end (a load's unit of work, shared by
/// the plain and the paired loads).
pub(crate) async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> Exchange {
    let resp = match sender.send_request(req).await {
        Ok(resp) => resp,
        Err(e) => return Exchange::Broken(format!("request: {e}")),
    };
    let status = resp.status();
    let mut body = resp.into_body();
    if status != StatusCode::OK {
        let text = match body.collect().await {
            Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
            Err(e) => format!("<body unreadable: {e}>"),
        };
        return Exchange::Refused(format!("HTTP {status}: {text}"));
    }
    while let Some(frame) = body.frame().await {
        if let Err(e) = frame {
            return Exchange::Broken(format!("reading the reply: {e}"));
        }
    }
    Exchange::Ok
}

/// Sends back to back on one connection. Returns `true` when the window is
/// over, `false` when the connection broke.
async fn send_loop(
    job: &Job,
    window: Window,
    sender: &mut SendRequest<Full<Bytes>>,
    signed: &mut Signed,
    stats: &mut TaskStats,
) -> bool {
    loop {
        let now = Instant::now();
        if now >= window.end {
            return true;
        }
        if now.duration_since(signed.at) >= RESIGN_EVERY {
            match kms::signed_request(&job.endpoint, job.target, &job.body) {
                Ok(req) => *signed = Signed { req, at: now },
                Err(e) => stats.error(|| format!("re-signing: {e:#}")),
            }
        }
        if sender.ready().await.is_err() {
            return false;
        }
        let sent = Instant::now();
        match exchange(sender, signed.req.clone()).await {
            Exchange::Ok => {}
            Exchange::Refused(e) => {
                stats.error(|| e);
                continue;
            }
            Exchange::Broken(e) => {
                stats.error(|| e);
                return false;
            }
        }
        let done = Instant::now();
        if done >= window.start && done < window.end {
            stats.ok += 1;
            let us = done.duration_since(sent).as_micros();
            stats
                .latencies_us
                .push(u32::try_from(us).unwrap_or(u32::MAX));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_nearest_rank() {
        let m = Measured {
            latencies_us: (1..=100).map(|i| i * 1000).collect(),
            window: Duration::from_secs(2),
            ok: 100,
            ..Measured::default()
        };
        assert_eq!(m.quantile_ms(0.5), Some(50.0));
        assert_eq!(m.quantile_ms(0.99), Some(99.0));
        assert_eq!(m.max_ms(), Some(100.0));
        assert!((m.rate() - 50.0).abs() < 1e-9);
        assert_eq!(Measured::default().quantile_ms(0.5), None);
    }
}
