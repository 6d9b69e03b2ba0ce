//! The standalone under a real JACK server (the dummy driver, no hardware): it registers its
//! ports and exits cleanly on SIGTERM. Needs `jackd` and the bundled binary (`cargo xtask test`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Stops a child on drop: SIGTERM first (a JACK server killed hard leaves its shared memory
/// behind, and the next server on the machine hangs on it), SIGKILL if it will not go.
struct Killer(Child);
impl Drop for Killer {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// With no JACK server running anywhere, JACK files left in /dev/shm are stale (from a server
/// that was killed) and would make a new server hang: remove them.
fn clear_stale_jack_state() {
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

fn jack_ports(server: &str) -> Option<String> {
    let out = Command::new("jack_lsp").env("JACK_DEFAULT_SERVER", server).env("JACK_NO_START_SERVER", "1").output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn standalone_registers_jack_ports_and_exits_cleanly_on_sigterm() {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bundled/Livechain");
    assert!(bin.exists(), "{} is missing: run `cargo xtask test`", bin.display());
    let server = format!("livechain-test-{}", std::process::id());
    clear_stale_jack_state();
    let jackd = Command::new("jackd")
        .args(["--no-realtime", "-n", &server, "-d", "dummy", "-r", "48000", "-p", "128"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("jackd (Debian package jackd2) must be installed: `cargo xtask test` installs it");
    let _jackd = Killer(jackd);
    wait_for("the JACK server", Duration::from_secs(20), || jack_ports(&server).is_some());

    let app = Command::new(&bin)
        .args(["--backend", "jack"])
        .env("JACK_DEFAULT_SERVER", &server)
        .env_remove("DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the standalone");
    let pid = app.id();
    let mut app = Killer(app);
    let mut ports = String::new();
    wait_for("Livechain's JACK ports", Duration::from_secs(30), || {
        ports = jack_ports(&server).unwrap_or_default();
        ports.contains("livechain:")
    });
    for want in ["livechain:input_1", "livechain:input_2", "livechain:output_1", "livechain:output_2"] {
        assert!(ports.lines().any(|l| l.trim() == want), "port {want} missing from:\n{ports}");
    }
    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let t = Instant::now();
    let exit = loop {
        if let Some(s) = app.0.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(15), "the standalone did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status after SIGTERM: {exit:?}");
    wait_for("the ports to go away", Duration::from_secs(5), || !jack_ports(&server).unwrap_or_default().contains("livechain:"));
}
