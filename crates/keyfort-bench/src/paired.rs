//! A paired load over HTTP: the same connection tasks send request A or request B
//! depending on which window of a shared schedule it is (A B | B A | ..., see
//! [`crate::stats`]), so both are measured moments apart under the same conditions.
//! The two sides may be two requests to one server (one keep-alive connection per
//! task, `--authz`) or the same request to two servers (a connection to each per
//! task, only the current side's in use: `--no-audit-too`).
//!
//! A reply counts for a window when its request was sent and answered inside that
//! window (the few requests in flight at a switch count for neither side, alike for
//! both). Non-200 replies count as errors of their side, warm-up included. The CPU
//! use of the bench, the server and everything else is read at every window boundary.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper::client::conn::http1::SendRequest;

use crate::child;
use crate::kms::{self, Endpoint};
use crate::load::{self, Measured};
use crate::stats::{self, Side};

/// How often a connection re-signs its requests.
const RESIGN_EVERY: Duration = Duration::from_secs(60);

/// One side of a paired comparison: who sends what.
#[derive(Debug, Clone)]
pub struct SideSpec {
    /// The credentials (and address) to sign with.
    pub endpoint: Endpoint,
    /// The `X-Amz-Target` value.
    pub target: &'static str,
    /// The request body.
    pub body: Bytes,
}

/// A paired measurement.
#[derive(Debug)]
pub struct PairedJob {
    /// A (the baseline) and B; each side connects to its endpoint's address.
    pub sides: [SideSpec; 2],
    /// Keep-alive connections (one task each).
    pub connections: usize,
    /// The length of one window.
    pub window: Duration,
    /// Unmeasured rounds (two windows each) before the measured ones.
    pub warmup_rounds: usize,
    /// Measured rounds (two windows each).
    pub rounds: usize,
    /// The servers' process ids, to read their CPU time (summed: the idle side's
    /// server uses next to nothing).
    pub server_pids: Vec<u32>,
}

impl PairedJob {
    fn slots(&self) -> usize {
        2 * (self.warmup_rounds + self.rounds)
    }

    fn first_measured(&self) -> usize {
        2 * self.warmup_rounds
    }

    /// The addresses to connect to: one when both sides name the same server.
    fn addrs(&self) -> Vec<SocketAddr> {
        let [a, b] = [&self.sides[0], &self.sides[1]].map(|s| s.endpoint.addr);
        if a == b { vec![a] } else { vec![a, b] }
    }
}

/// What a paired measurement found.
#[derive(Debug)]
pub struct PairedMeasured {
    /// Each side over all its measured windows (`window` is their total length).
    pub sides: [Measured; 2],
    /// Each measured round's rates, `[A, B]` in requests per second.
    pub rounds: Vec<[f64; 2]>,
    /// Each measured round's CPU use by other processes, in cores.
    pub round_other_cores: Vec<Option<f64>>,
}

/// The window `at` falls in, counted from `t0`; `None` before `t0`.
fn slot_at(t0: Instant, window: Duration, at: Instant) -> Option<usize> {
    let since = at.checked_duration_since(t0)?;
    usize::try_from(since.as_nanos() / window.as_nanos().max(1)).ok()
}

/// What one connection task found.
#[derive(Debug, Default)]
struct TaskStats {
    /// 200 replies per window.
    ok: Vec<u64>,
    errors: [u64; 2],
    error_sample: [Option<String>; 2],
    reconnects: u64,
    latencies_us: [Vec<u32>; 2],
}

impl TaskStats {
    fn error(&mut self, side: Side, what: impl FnOnce() -> String) {
        let i = side.index();
        self.errors[i] += 1;
        if self.error_sample[i].is_none() {
            self.error_sample[i] = Some(what());
        }
    }
}

/// CPU readings at one instant.
#[derive(Clone, Copy, Debug)]
struct CpuReading {
    at: Instant,
    client: Option<Duration>,
    server: Option<Duration>,
    machine: Option<Duration>,
    kernel: Option<Duration>,
}

fn read_cpu(server_pids: &[u32]) -> CpuReading {
    let server = if server_pids.is_empty() {
        None
    } else {
        server_pids
            .iter()
            .map(|&p| child::cpu_time(p))
            .sum::<Option<Duration>>()
    };
    CpuReading {
        at: Instant::now(),
        client: child::cpu_time(std::process::id()),
        server,
        machine: child::machine_busy(),
        kernel: child::kernel_threads_cpu(),
    }
}

/// CPU use over a span, in cores.
#[derive(Clone, Copy, Debug)]
struct SpanCpu {
    client: Option<f64>,
    server: Option<f64>,
    other: Option<f64>,
}

/// CPU use between two readings.
fn cpu_between(a: &CpuReading, b: &CpuReading) -> SpanCpu {
    let secs = b.at.duration_since(a.at).as_secs_f64();
    let cores = |x: Option<Duration>, y: Option<Duration>| {
        (secs > 0.0).then_some(())?;
        Some(y?.saturating_sub(x?).as_secs_f64() / secs)
    };
    let client = cores(a.client, b.client);
    let server = cores(a.server, b.server);
    let kernel = cores(a.kernel, b.kernel).unwrap_or(0.0);
    let other = cores(a.machine, b.machine)
        .map(|all| (all - kernel - client.unwrap_or(0.0) - server.unwrap_or(0.0)).max(0.0));
    SpanCpu {
        client,
        server,
        other,
    }
}

fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = values.collect::<Option<Vec<f64>>>()?;
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Runs `job`: connects, alternates the sides on the schedule, merges.
pub async fn run(job: Arc<PairedJob>) -> anyhow::Result<PairedMeasured> {
    anyhow::ensure!(job.rounds > 0, "a paired measurement needs rounds");
    anyhow::ensure!(!job.window.is_zero(), "a paired measurement needs a window");
    // Sign once up front so that a signing error stops the run here.
    for s in &job.sides {
        kms::signed_request(&s.endpoint, s.target, &s.body)?;
    }
    // Time for every connection to open before the first window.
    let t0 = Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::with_capacity(job.connections);
    for _ in 0..job.connections {
        let job = Arc::clone(&job);
        tasks.push(tokio::spawn(async move { connection(&job, t0).await }));
    }

    // A CPU reading at every measured window's boundary.
    let first = job.first_measured();
    let slots = job.slots();
    let mut readings = Vec::with_capacity(slots - first + 1);
    for slot in first..=slots {
        let boundary = t0 + job.window * u32::try_from(slot)?;
        tokio::time::sleep_until(boundary.into()).await;
        readings.push(read_cpu(&job.server_pids));
    }

    let mut ok = vec![0u64; slots];
    let mut errors = [0u64; 2];
    let mut samples: [Option<String>; 2] = [None, None];
    let mut reconnects = 0;
    let mut latencies: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    for task in tasks {
        let s = task.await?;
        for (o, n) in ok.iter_mut().zip(&s.ok) {
            *o += n;
        }
        for i in 0..2 {
            errors[i] += s.errors[i];
            if samples[i].is_none() {
                samples[i].clone_from(&s.error_sample[i]);
            }
            latencies[i].extend_from_slice(&s.latencies_us[i]);
        }
        reconnects += s.reconnects;
    }

    let secs = job.window.as_secs_f64();
    let per_slot_cpu: Vec<_> = readings
        .windows(2)
        .map(|w| cpu_between(&w[0], &w[1]))
        .collect();
    let mut rounds = Vec::with_capacity(job.rounds);
    let mut round_other_cores = Vec::with_capacity(job.rounds);
    for r in 0..job.rounds {
        let mut rates = [0.0; 2];
        for k in 0..2 {
            let slot = first + 2 * r + k;
            rates[stats::side_of(slot).index()] = ok[slot] as f64 / secs;
        }
        rounds.push(rates);
        round_other_cores.push(mean(
            (0..2).map(|k| per_slot_cpu.get(2 * r + k).and_then(|c| c.other)),
        ));
    }
    let mut side_measured = |side: Side| {
        let i = side.index();
        let mine: Vec<usize> = (first..slots)
            .filter(|&s| stats::side_of(s) == side)
            .collect();
        let cpu = |f: fn(&SpanCpu) -> Option<f64>| {
            mean(
                mine.iter()
                    .map(|&s| per_slot_cpu.get(s - first).and_then(f)),
            )
        };
        let mut lat = std::mem::take(&mut latencies[i]);
        lat.sort_unstable();
        Measured {
            ok: mine.iter().map(|&s| ok[s]).sum(),
            errors: errors[i],
            error_sample: samples[i].take(),
            reconnects: if i == 0 { reconnects } else { 0 },
            latencies_us: lat,
            window: job.window * u32::try_from(mine.len()).unwrap_or(u32::MAX),
            client_cores: cpu(|c| c.client),
            server_cores: cpu(|c| c.server),
            other_cores: cpu(|c| c.other),
        }
    };
    let a = side_measured(Side::A);
    let b = side_measured(Side::B);
    Ok(PairedMeasured {
        sides: [a, b],
        rounds,
        round_other_cores,
    })
}

/// A request signed at `at`.
struct Signed {
    req: Request<Full<Bytes>>,
    at: Instant,
}

fn sign(spec: &SideSpec) -> anyhow::Result<Signed> {
    Ok(Signed {
        req: kms::signed_request(&spec.endpoint, spec.target, &spec.body)?,
        at: Instant::now(),
    })
}

/// One connection's task: (re)connects (to each side's server) and sends until the
/// schedule ends.
async fn connection(job: &PairedJob, t0: Instant) -> TaskStats {
    let slots = job.slots();
    let mut stats = TaskStats {
        ok: vec![0; slots],
        ..TaskStats::default()
    };
    let mut signed = match (sign(&job.sides[0]), sign(&job.sides[1])) {
        (Ok(a), Ok(b)) => [a, b],
        (Err(e), _) | (_, Err(e)) => {
            stats.error(Side::A, || format!("{e:#}"));
            return stats;
        }
    };
    let addrs = job.addrs();
    let end = t0 + job.window * u32::try_from(slots).unwrap_or(u32::MAX);
    let mut first = true;
    while Instant::now() < end {
        let mut senders = Vec::with_capacity(addrs.len());
        let mut conns = Vec::with_capacity(addrs.len());
        for &addr in &addrs {
            match kms::connect(addr).await {
                Ok((sender, conn)) => {
                    senders.push(sender);
                    conns.push(load::drive(conn));
                }
                Err(e) => {
                    let side =
                        slot_at(t0, job.window, Instant::now()).map_or(Side::A, stats::side_of);
                    stats.error(side, || format!("{e:#}"));
                    break;
                }
            }
        }
        if senders.len() < addrs.len() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        if !first {
            stats.reconnects += 1;
        }
        first = false;
        tokio::time::sleep_until(t0.into()).await;
        // Ends when any of this task's connections ends.
        let mut conns = pin!(first_to_end(conns));
        let (ended, conn_error) = {
            let mut sending = pin!(send_loop(job, t0, &mut senders, &mut signed, &mut stats));
            tokio::select! {
                biased;
                res = &mut conns => (sending.await, res.err()),
                ended = &mut sending => (ended, None),
            }
        };
        if let Some(e) = conn_error {
            let side = slot_at(t0, job.window, Instant::now()).map_or(Side::A, stats::side_of);
            stats.error(side, || format!("connection: {e}"));
        }
        if ended {
            break;
        }
    }
    stats
}

/// Completes with the first of `conns` to complete (one or two connections).
async fn first_to_end<F>(conns: Vec<F>) -> Result<(), hyper::Error>
where
    F: std::future::Future<Output = Result<(), hyper::Error>>,
{
    let mut conns: Vec<_> = conns.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        for c in &mut conns {
            if let std::task::Poll::Ready(r) = c.as_mut().poll(cx) {
                return std::task::Poll::Ready(r);
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Sends back to back, each request the side of the current window, on that side's
/// connection (`senders` has one per server: one when both sides share it). Returns
/// `true` when the schedule is over, `false` when a connection broke.
async fn send_loop(
    job: &PairedJob,
    t0: Instant,
    senders: &mut [SendRequest<Full<Bytes>>],
    signed: &mut [Signed; 2],
    stats: &mut TaskStats,
) -> bool {
    let slots = job.slots();
    let first_measured = job.first_measured();
    loop {
        let now = Instant::now();
        let slot = slot_at(t0, job.window, now).unwrap_or(0);
        if slot >= slots {
            return true;
        }
        let side = stats::side_of(slot);
        let i = side.index();
        if now.duration_since(signed[i].at) >= RESIGN_EVERY {
            match sign(&job.sides[i]) {
                Ok(s) => signed[i] = s,
                Err(e) => stats.error(side, || format!("re-signing: {e:#}")),
            }
        }
        let Some(sender) = senders.get_mut(i.min(senders.len().saturating_sub(1))) else {
            return false;
        };
        if sender.ready().await.is_err() {
            return false;
        }
        let sent = Instant::now();
        match load::exchange(sender, signed[i].req.clone()).await {
            load::Exchange::Ok => {}
            load::Exchange::Refused(e) => {
                stats.error(side, || e);
                continue;
            }
            load::Exchange::Broken(e) => {
                stats.error(side, || e);
                return false;
            }
        }
        let done = Instant::now();
        if slot >= first_measured && slot_at(t0, job.window, done) == Some(slot) {
            stats.ok[slot] += 1;
            let us = done.duration_since(sent).as_micros();
            stats.latencies_us[i].push(u32::try_from(us).unwrap_or(u32::MAX));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use hyper::StatusCode;

    /// A loopback server that denies every request signed by access key `DENIED`
    /// (as keyfort denies a user whose policy does not allow it), or every request
    /// when `deny_all`, and answers the others 200.
    async fn denying_server(deny_all: bool) -> SocketAddr {
        use hyper::service::service_fn;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let service = service_fn(move |req: Request<hyper::body::Incoming>| async move {
                    let denied = deny_all
                        || req
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .is_some_and(|v| v.contains("Credential=DENIED/"));
                    let _ = req.into_body().collect().await;
                    let mut resp = hyper::Response::new(Full::new(Bytes::from_static(if denied {
                        br#"{"__type":"AccessDeniedException"}"#
                    } else {
                        b"{}"
                    })));
                    if denied {
                        *resp.status_mut() = StatusCode::BAD_REQUEST;
                    }
                    Ok::<_, std::convert::Infallible>(resp)
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
                );
            }
        });
        addr
    }

    fn side(addr: SocketAddr, key: &str) -> SideSpec {
        SideSpec {
            endpoint: Endpoint {
                addr,
                host: addr.to_string(),
                access_key_id: key.to_owned(),
                secret_access_key: "secret".to_owned(),
                region: "us-east-1".to_owned(),
            },
            target: "TrentService.Encrypt",
            body: Bytes::from_static(b"{}"),
        }
    }

    /// A side that is refused is counted as errors, not as a fast rate, and only on
    /// its own side; every measured round has both rates.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn denied_requests_are_errors_of_their_side() {
        let addr = denying_server(false).await;
        let job = Arc::new(PairedJob {
            sides: [side(addr, "ALLOWED"), side(addr, "DENIED")],
            connections: 2,
            window: Duration::from_millis(60),
            warmup_rounds: 1,
            rounds: 3,
            server_pids: Vec::new(),
        });
        let m = run(job).await.expect("ran");
        let [a, b] = &m.sides;
        assert_eq!(m.rounds.len(), 3);
        assert_eq!(m.round_other_cores.len(), 3);
        assert!(a.ok > 0 && a.errors == 0, "{a:?}");
        assert_eq!(b.ok, 0);
        assert!(b.errors > 0);
        assert!(
            b.error_sample
                .as_deref()
                .is_some_and(|e| e.contains("AccessDeniedException"))
        );
        assert!(m.rounds.iter().all(|r| r[0] > 0.0 && r[1] == 0.0));
        assert_eq!(a.window, Duration::from_millis(180));
    }

    /// Two servers: each side's requests go to its own server only (the one that
    /// refuses everything is B's, so any A request sent there would be an A error).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_side_is_sent_to_its_own_server() {
        let allowing = denying_server(false).await;
        let refusing = denying_server(true).await;
        let job = Arc::new(PairedJob {
            sides: [side(allowing, "ALLOWED"), side(refusing, "ALLOWED")],
            connections: 3,
            window: Duration::from_millis(60),
            warmup_rounds: 1,
            rounds: 3,
            server_pids: Vec::new(),
        });
        assert_eq!(job.addrs(), vec![allowing, refusing]);
        let m = run(job).await.expect("ran");
        let [a, b] = &m.sides;
        assert!(a.ok > 0 && a.errors == 0, "{a:?}");
        assert_eq!(b.ok, 0);
        assert!(b.errors > 0);
        assert!(m.rounds.iter().all(|r| r[0] > 0.0 && r[1] == 0.0));
    }

    #[test]
    fn slots_count_windows_from_t0() {
        let t0 = Instant::now();
        let w = Duration::from_millis(100);
        assert_eq!(slot_at(t0, w, t0), Some(0));
        assert_eq!(slot_at(t0, w, t0 + Duration::from_millis(99)), Some(0));
        assert_eq!(slot_at(t0, w, t0 + Duration::from_millis(100)), Some(1));
        assert_eq!(slot_at(t0, w, t0 + Duration::from_millis(1234)), Some(12));
        assert_eq!(slot_at(t0 + w, w, t0), None);
    }

    #[test]
    fn cpu_between_subtracts_the_known_processes() {
        let t = Instant::now();
        let a = CpuReading {
            at: t,
            client: Some(Duration::from_millis(0)),
            server: Some(Duration::from_millis(0)),
            machine: Some(Duration::from_millis(0)),
            kernel: Some(Duration::from_millis(0)),
        };
        let b = CpuReading {
            at: t + Duration::from_secs(1),
            client: Some(Duration::from_millis(300)),
            server: Some(Duration::from_millis(1000)),
            machine: Some(Duration::from_millis(1500)),
            kernel: Some(Duration::from_millis(100)),
        };
        let c = cpu_between(&a, &b);
        assert!((c.client.expect("client") - 0.3).abs() < 1e-9);
        assert!((c.server.expect("server") - 1.0).abs() < 1e-9);
        assert!((c.other.expect("other") - 0.1).abs() < 1e-9);
        assert_eq!(mean([Some(1.0), Some(3.0)].into_iter()), Some(2.0));
        assert_eq!(mean([Some(1.0), None].into_iter()), None);
    }
}
