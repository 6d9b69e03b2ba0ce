//! JACK servers for tests: private, named per test, stopped cleanly.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Stops a child on drop: SIGTERM first (a JACK server killed hard leaves its shared memory
/// behind, and the next server on the machine hangs on it), SIGKILL if it will not go.
pub struct Stop(pub Child);
impl Drop for Stop {
    fn drop(&mut self) {
        // Only a child not reaped yet: once `try_wait` has collected its status (a test asking
        // whether it ended) its PID is free for another process, which `kill` would hit. A child
        // that ends after this check stays a zombie, holding its PID, until `reap` collects it.
        if let Ok(None) = self.0.try_wait() {
            let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        }
        reap(&mut self.0, Duration::from_secs(5));
    }
}

/// Waits up to `limit` for `child` to end, and kills it if it has not: its exit status when it
/// ended by itself.
fn reap(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let t = Instant::now();
    while t.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// With no JACK server running anywhere, JACK files left in /dev/shm are stale (from a server
/// that was killed) and would make a new server hang: remove them.
pub fn clear_stale_state() {
    let running = std::fs::read_dir("/proc")
        .map(|d| d.flatten().any(|e| std::fs::read_to_string(e.path().join("comm")).map(|c| c.trim() == "jackd").unwrap_or(false)))
        .unwrap_or(false);
    if running {
        return;
    }
    if let Ok(dir) = std::fs::read_dir("/dev/shm") {
        for e in dir.flatten() {
            if e.file_name().to_string_lossy().starts_with("jack") {
                let _ = std::fs::remove_file(e.path()).or_else(|_| std::fs::remove_dir_all(e.path()));
            }
        }
    }
}

pub fn ports(server: &str) -> Option<String> {
    lsp(server, &[])
}

/// `jack_lsp` with `args` on `server`: what it printed, or None when it failed or had no answer
/// in 5 s (a wedged server once left it waiting for ever, and the test with it).
pub fn lsp(server: &str, args: &[&str]) -> Option<String> {
    let mut child = Command::new("jack_lsp")
        .args(args)
        .env("JACK_DEFAULT_SERVER", server)
        .env("JACK_NO_START_SERVER", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut out = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let status = reap(&mut child, Duration::from_secs(5));
    let text = reader.join().unwrap_or_default();
    status.is_some_and(|s| s.success()).then_some(text)
}

#[track_caller]
pub fn wait_for(what: &str, timeout: Duration, f: impl FnMut() -> bool) {
    wait_or(what, timeout, f, String::new);
}

/// `wait_for`, and on a timeout the panic adds what `detail` says then (a log, the state a
/// process was in): what whoever reads a failure needs first.
#[track_caller]
pub fn wait_or(what: &str, timeout: Duration, mut f: impl FnMut() -> bool, detail: impl FnOnce() -> String) {
    let t = Instant::now();
    while !f() {
        if t.elapsed() >= timeout {
            panic!("timed out after {} s waiting for {what}\n{}", timeout.as_secs_f32(), detail());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `jackd -d dummy` at 48 kHz with `period` frames under the name `server`.
pub fn start_server(server: &str, period: u32) -> Stop {
    clear_stale_state();
    let child = Command::new("jackd")
        .args(["--no-realtime", "-n", server, "-d", "dummy", "-r", "48000", "-p", &period.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("jackd (Debian package jackd2) must be installed: `cargo xtask test` installs it");
    let stop = Stop(child);
    wait_for("the JACK server", Duration::from_secs(20), || ports(server).is_some());
    stop
}
