//! The standalone under a real JACK server (the dummy driver, no hardware): it registers its
//! ports and exits cleanly on SIGTERM. Needs `jackd` and the bundled binary (`cargo xtask test`).

mod common;
use common::jack::{ports as jack_ports, start_server, wait_for, Stop as Killer};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The two tests each run a JACK server and the standalone; one at a time keeps a 2-core
/// machine from missing the deadlines the waits allow.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
#[ignore = "system: runs the bundled standalone on a JACK server (cargo xtask test)"]
fn standalone_registers_jack_ports_and_exits_cleanly_on_sigterm() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bin = common::bundled("Livechain");
    assert!(bin.exists(), "{} is missing: run `cargo xtask test`", bin.display());
    let server = format!("livechain-test-{}", std::process::id());
    let _jackd = start_server(&server, 128);

    let mut app = Command::new(&bin)
        .args(["--backend", "jack"])
        .env("JACK_DEFAULT_SERVER", &server)
        .env_remove("DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the standalone");
    let pid = app.id();
    // Collect what it logs: the signal handler is in place once it says it runs without a GUI.
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    {
        use std::io::BufRead;
        let stderr = app.stderr.take().unwrap();
        let log = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&(line + "\n"));
            }
        });
    }
    let mut app = Killer(app);
    let mut ports = String::new();
    // The ports register one after another: wait for the last one, then check them all.
    wait_for("Livechain's JACK ports", Duration::from_secs(30), || {
        ports = jack_ports(&server).unwrap_or_default();
        ports.contains("livechain:midi_input")
    });
    // The main pair, the sidechain pair (the vocoder's carrier) and the MIDI input (its synth).
    for want in [
        "livechain:input_1",
        "livechain:input_2",
        "livechain:output_1",
        "livechain:output_2",
        "livechain:sidechain_1",
        "livechain:sidechain_2",
        "livechain:midi_input",
    ] {
        assert!(ports.lines().any(|l| l.trim() == want), "port {want} missing from:\n{ports}");
    }
    wait_for("the standalone to run", Duration::from_secs(30), || log.lock().unwrap().contains("No GUI available"));
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
    assert!(exit.success(), "exit status after SIGTERM: {exit:?}\n{}", log.lock().unwrap());
    wait_for("the ports to go away", Duration::from_secs(5), || !jack_ports(&server).unwrap_or_default().contains("livechain:"));
}

#[test]
#[ignore = "system: runs the bundled standalone on a JACK server (cargo xtask test)"]
fn standalone_reports_jack_xruns_and_keeps_running() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bin = common::bundled("Livechain");
    let server = format!("livechain-xrun-{}", std::process::id());
    let _jackd = start_server(&server, 128);
    let mut app = Command::new(&bin)
        .args(["--backend", "jack"])
        .env("JACK_DEFAULT_SERVER", &server)
        .env_remove("DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the standalone");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    {
        use std::io::BufRead;
        let (stderr, log) = (app.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&(line + "\n"));
            }
        });
    }
    let mut app = Killer(app);
    wait_for("Livechain's JACK ports", Duration::from_secs(30), || jack_ports(&server).unwrap_or_default().contains("livechain:output_2"));

    // A client that now and then overruns its period by far: the server reports an xrun to every
    // client, as a real overload or a device hiccup would.
    std::env::set_var("JACK_DEFAULT_SERVER", &server);
    let (client, _) = jack::Client::new("slowpoke", jack::ClientOptions::NO_START_SERVER).expect("connect to the test server");
    let mut cycles = 0u32;
    let handler = jack::contrib::ClosureProcessHandler::new(move |_: &jack::Client, _: &jack::ProcessScope| {
        cycles += 1;
        if cycles.is_multiple_of(100) {
            std::thread::sleep(Duration::from_millis(25));
        }
        jack::Control::Continue
    });
    let slow = client.activate_async((), handler).expect("activate the slow client");
    wait_for("the standalone to report an xrun", Duration::from_secs(30), || log.lock().unwrap().contains("JACK xrun"));
    drop(slow);

    // Still running, ports still there, and it still stops cleanly.
    std::thread::sleep(Duration::from_millis(500));
    assert!(app.0.try_wait().unwrap().is_none(), "the standalone stopped after an xrun:\n{}", log.lock().unwrap());
    assert!(jack_ports(&server).unwrap_or_default().contains("livechain:output_2"));
    let pid = app.0.id();
    assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    let t = Instant::now();
    let exit = loop {
        if let Some(s) = app.0.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(15), "the standalone did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit:?}\n{}", log.lock().unwrap());
    let text = log.lock().unwrap().clone();
    eprintln!("{}", text.lines().find(|l| l.contains("JACK xrun")).unwrap_or(""));
}
