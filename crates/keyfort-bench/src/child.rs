//! The servers under test, run as child processes that are killed (and
//! reaped) when their guard is dropped: on success, on error, on panic, and on
//! Ctrl-C (which `main` turns into an early return).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};

/// A directory removed (with its contents) on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh directory under the system's temporary directory.
    pub fn new(prefix: &str) -> anyhow::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos:09}", std::process::id()));
        std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir(path))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server process. Dropping it kills the process, waits for it,
/// then removes its scratch directory.
#[derive(Debug)]
pub struct ServerProcess {
    name: String,
    child: Child,
    /// Where the child's stderr (and for moto, stdout) goes.
    log: PathBuf,
    // Declared last: removed after the child is gone.
    _scratch: TempDir,
}

impl ServerProcess {
    /// The process id, to read its CPU time.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of the child's log, for error messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// An error saying the child has exited, if it has.
    fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}) before it was ready; its log ({}):\n{}",
                self.name,
                self.log.display(),
                self.log_tail()
            );
        }
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Spawns `cmd` with stdout piped and stderr to `scratch/log`, then waits
/// (blocking: nothing else runs during setup) for a stdout line containing
/// `marker` and returns the text after `http://` on that line, up to the
/// next space, parsed as an address.
fn spawn_until_listening(
    name: &str,
    mut cmd: Command,
    scratch: TempDir,
    marker: &str,
    timeout: Duration,
) -> anyhow::Result<(ServerProcess, SocketAddr)> {
    let log = scratch.path().join("server.log");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&log).with_context(|| format!("creating {}", log.display()))?);
    let mut child = cmd.spawn().with_context(|| format!("starting {name}"))?;
    let stdout = child.stdout.take();
    let mut proc = ServerProcess {
        name: name.to_owned(),
        child,
        log,
        _scratch: scratch,
    };
    let stdout = stdout.ok_or_else(|| anyhow!("{name}: no stdout pipe"))?;
    let (tx, rx) = mpsc::channel();
    let wanted = marker.to_owned();
    // Reads the child's stdout for as long as it lives so that it never
    // blocks on a full pipe; hands over the first line with the marker.
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains(&wanted)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(line);
            }
        }
    });
    let line = match rx.recv_timeout(timeout) {
        Ok(line) => line,
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // Give the process a moment to be reaped so that the message has its status.
            std::thread::sleep(Duration::from_millis(100));
            proc.check_alive()?;
            bail!(
                "{name} closed its stdout without printing {marker:?}; log:\n{}",
                proc.log_tail()
            );
        }
        Err(mpsc::RecvTimeoutError::Timeout) => bail!(
            "{name} did not print {marker:?} within {timeout:?}; log:\n{}",
            proc.log_tail()
        ),
    };
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse::<SocketAddr>().ok())
        .ok_or_else(|| anyhow!("{name}: cannot find the address in {line:?}"))?;
    Ok((proc, addr))
}

/// Root credentials given to the keyfort child.
pub const KEYFORT_ACCESS_KEY_ID: &str = "KEYFORTBENCHROOT0001";
/// The secret access key given to the keyfort child.
pub const KEYFORT_SECRET_ACCESS_KEY: &str = "keyfort-bench-root-secret-0123456789abcdef";

/// Starts `keyfort serve` on a loopback port and a fresh data directory.
pub fn start_keyfort(bin: &Path, audit: bool) -> anyhow::Result<(ServerProcess, SocketAddr)> {
    if !bin.is_file() {
        bail!(
            "{} does not exist; build it with `cargo build --release -p keyfort` or pass --keyfort-bin",
            bin.display()
        );
    }
    let scratch = TempDir::new("keyfort-bench")?;
    let data = scratch.path().join("data");
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(&data)
        .env("KEYFORT_ROOT_ACCESS_KEY_ID", KEYFORT_ACCESS_KEY_ID)
        .env("KEYFORT_ROOT_SECRET_ACCESS_KEY", KEYFORT_SECRET_ACCESS_KEY);
    if !audit {
        cmd.arg("--no-audit");
    }
    spawn_until_listening(
        "keyfort",
        cmd,
        scratch,
        "keyfort listening on",
        Duration::from_secs(30),
    )
}

/// Starts this binary's own `noop-server` on a loopback port.
pub fn start_noop() -> anyhow::Result<(ServerProcess, SocketAddr)> {
    let exe = std::env::current_exe().context("finding this executable")?;
    let scratch = TempDir::new("keyfort-bench-noop")?;
    let mut cmd = Command::new(exe);
    cmd.args(["noop-server", "--listen", "127.0.0.1:0"]);
    spawn_until_listening(
        "noop-server",
        cmd,
        scratch,
        "listening on",
        Duration::from_secs(10),
    )
}

/// A loopback port that was free a moment ago.
fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// Starts `moto_server` on a free loopback port and waits until it accepts
/// connections (the caller then checks that it answers HTTP).
pub fn start_moto(bin: &str) -> anyhow::Result<(ServerProcess, SocketAddr)> {
    let scratch = TempDir::new("keyfort-bench-moto")?;
    let port = free_port()?;
    let log = scratch.path().join("server.log");
    let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    let mut cmd = Command::new(bin);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    let child = cmd.spawn().with_context(|| {
        format!("starting {bin} (is moto installed? pip install 'moto[server]')")
    })?;
    let mut proc = ServerProcess {
        name: "moto_server".to_owned(),
        child,
        log,
        _scratch: scratch,
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        proc.check_alive()?;
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok((proc, addr));
        }
        if Instant::now() > deadline {
            bail!(
                "moto_server did not listen on {addr} within 60 s; log:\n{}",
                proc.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// User plus system CPU time of process `pid` (all its threads), from
/// `/proc/PID/stat`; `None` where that is unavailable.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it do not.
    let after = stat.rsplit_once(')')?.1;
    let mut fields = after.split_whitespace();
    // After the name: state is field 3, utime 14, stime 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // USER_HZ is 100 on every Linux architecture keyfort targets.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// `PF_KTHREAD` in `/proc/PID/stat`'s flags.
const PF_KTHREAD: u64 = 0x0020_0000;

/// CPU time used so far by all kernel threads together (journalling,
/// writeback, softirq threads...). Kernel threads live as long as the
/// machine, so the difference of two readings is exact. The fsyncs of a
/// server under test make some of this work, which is not another process
/// competing with the run.
pub fn kernel_threads_cpu() -> Option<Duration> {
    let mut ticks = 0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, after)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = after.split_whitespace().take(13).collect();
        let num = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        if let (Some(flags), Some(utime), Some(stime)) = (num(6), num(11), num(12))
            && flags & PF_KTHREAD != 0
        {
            ticks += utime + stime;
        }
    }
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time the whole machine spent busy in processes (user, nice, system,
/// steal: everything but idle, I/O wait and interrupt handling, summed over
/// all CPUs), from `/proc/stat`. Loopback networking is largely done in
/// softirq, which no process is charged for, so it is left out here too.
pub fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal ...; guest time is
    // already counted in user.
    let busy = ticks.first()? + ticks.get(1)? + ticks.get(2)? + ticks.get(7)?;
    Some(Duration::from_millis(busy * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cpu_time_is_readable() {
        if Path::new("/proc/self/stat").exists() {
            assert!(cpu_time(std::process::id()).is_some());
            assert!(machine_busy().is_some());
            assert!(kernel_threads_cpu().is_some());
        }
    }

    #[test]
    fn temp_dir_is_removed_on_drop() {
        let dir = TempDir::new("keyfort-bench-test").expect("created");
        let path = dir.path().to_owned();
        std::fs::write(path.join("f"), b"x").expect("written");
        drop(dir);
        assert!(!path.exists());
    }
}
