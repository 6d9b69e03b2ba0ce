//! JACK clients for the latency tools: a probe player/recorder, and a host that runs the chain
//! live for the buffer-size sweep. Both keep their callbacks real-time safe: buffers are made
//! before activation and results come back when the client is deactivated.

use anyhow::{anyhow, bail, Context, Result};
use livechain::bridge::Bridge;
use livechain::chain::Chain;
use livechain::params::LivechainParams;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const CLIENT: &str = "livechain-latency";

/// Counts xruns reported by the server.
pub struct Xruns(pub Arc<AtomicUsize>);
impl jack::NotificationHandler for Xruns {
    fn xrun(&mut self, _: &jack::Client) -> jack::Control {
        self.0.fetch_add(1, Ordering::Relaxed);
        jack::Control::Continue
    }
}

/// The standalone's dropout reporter on JACK. nice-plug's JACK backend does not listen for
/// xruns, and a second JACK client inside the standalone's process can stall its audio client, so
/// the reporter runs as a child process (`livechain __xrun-monitor`): a port-less client whose
/// notifications print each xrun to the terminal (at most once a second) and write the running
/// count to its stdout, which the standalone reads into `livechain::DEVICE_XRUNS` for the editor.
/// It ends when the standalone does (its stdin closes).
pub struct XrunMonitor {
    last_print: Option<std::time::Instant>,
    unprinted: u32,
    total: u32,
}

impl jack::NotificationHandler for XrunMonitor {
    fn xrun(&mut self, _: &jack::Client) -> jack::Control {
        use std::io::Write;
        self.total += 1;
        self.unprinted += 1;
        let _ = writeln!(std::io::stdout(), "{}", self.total);
        let _ = std::io::stdout().flush();
        let now = std::time::Instant::now();
        if self.last_print.is_none_or(|t| now.duration_since(t).as_secs_f64() >= 1.0) {
            eprintln!(
                "livechain: JACK xrun ({} since the last report, {} in all): a period was missed and the audio \
                 dropped out; still running. If it repeats, raise the period (`livechain sweep` finds the \
                 smallest clean one)",
                self.unprinted, self.total
            );
            self.last_print = Some(now);
            self.unprinted = 0;
        }
        jack::Control::Continue
    }

    unsafe fn shutdown(&mut self, status: jack::ClientStatus, reason: &str) {
        eprintln!("livechain: the JACK server shut down ({status:?}: {reason}); audio has stopped");
    }
}

/// The child process's body: report until stdin closes, after connecting the standalone's
/// outputs (`connect_outputs`; `--connect-outputs A,B` carries Livechain's
/// `--connect-jack-outputs`). Without a JACK server it just waits.
pub fn run_xrun_monitor() -> ! {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let targets = args
        .iter()
        .position(|a| a == "--connect-outputs")
        .map(|i| args.get(i + 1).map(|v| v.split(',').filter(|p| !p.is_empty()).map(str::to_string).collect()).unwrap_or_default());
    let client = jack::Client::new("livechain-monitor", jack::ClientOptions::NO_START_SERVER).ok();
    let active = client.and_then(|(c, _)| c.activate_async(XrunMonitor { last_print: None, unprinted: 0, total: 0 }, ()).ok());
    if let Some(active) = &active {
        connect_outputs(active.as_client(), targets);
    }
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    std::process::exit(0)
}

/// Starts the reporter next to the standalone; its counts go to `livechain::DEVICE_XRUNS`. It
/// also connects the standalone's outputs (`connect_outputs`), to `targets` when given.
pub fn spawn_xrun_monitor(targets: Option<Vec<String>>) -> Option<std::process::Child> {
    use std::io::BufRead;
    let exe = std::env::current_exe().ok()?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("__xrun-monitor");
    if let Some(t) = targets {
        cmd.args(["--connect-outputs", &t.join(",")]);
    }
    let mut child = cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().ok()?;
    let out = child.stdout.take()?;
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(n) = line.trim().parse::<u32>() {
                livechain::devlog::DEVICE_XRUNS.store(n, Ordering::Relaxed);
            }
        }
    });
    Some(child)
}

/// Connects the standalone's outputs once its ports exist: to `targets` when given (Livechain's
/// `--connect-jack-outputs`), else, when nice-plug's own choice (`system:playback_N`) does not
/// exist, to the server's physical playback ports in order. On PipeWire there is no "system"
/// client, so without this the outputs would stay unconnected. Says what it connected.
///
/// It runs in the reporter's process, on the reporter's client: a second JACK client opened and
/// closed inside the standalone's own process deadlocked libjack (JACK2) now and then while
/// nice-plug's client started: the standalone's audio callback was never called (seen under
/// Xvfb, `tests/editor_xvfb.rs`: a backtrace showed `jack_client_close` of that helper and a
/// libjack thread waiting on the same lock).
fn connect_outputs(client: &jack::Client, targets: Option<Vec<String>>) {
    let started = Instant::now();
    let ours = loop {
        let ours: Vec<String> = client.ports(Some("^livechain:output_"), Some("32 bit float mono audio"), jack::PortFlags::IS_OUTPUT);
        if !ours.is_empty() {
            break ours;
        }
        if started.elapsed() > Duration::from_secs(30) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let connected = |name: &str| client.port_by_name(name).is_some_and(|p| p.connected_count().unwrap_or(0) > 0);
    let targets = match targets {
        Some(t) => t,
        // nice-plug connected them to system:playback_*, or the user did: leave them.
        None if ours.iter().any(|p| connected(p))
            || !client.ports(Some("^system:playback_"), None, jack::PortFlags::empty()).is_empty() =>
        {
            return;
        }
        None => client.ports(None, Some("32 bit float mono audio"), jack::PortFlags::IS_INPUT | jack::PortFlags::IS_PHYSICAL),
    };
    let mut done = Vec::new();
    for (from, to) in ours.iter().zip(&targets) {
        match client.connect_ports_by_name(from, to) {
            Ok(()) => done.push(format!("{from} → {to}")),
            Err(e) => eprintln!("livechain: could not connect {from} to {to} ({e:?})"),
        }
    }
    if !done.is_empty() {
        eprintln!("livechain: outputs connected: {}", done.join(", "));
    }
}

pub fn open_client(name: &str) -> Result<jack::Client> {
    jack::Client::new(name, jack::ClientOptions::NO_START_SERVER).map(|(c, _)| c).map_err(|e| {
        anyhow!(
            "no JACK server is running ({e:?}): start one (for example `jackd -d alsa -p 128`, or \
             `jackd -d dummy` without hardware), or use `--backend alsa`"
        )
    })
}

/// Whether the JACK library this process has loaded is PipeWire's (run through `pw-jack`, or
/// PipeWire's libjack installed as the system's), read from the process's own memory map: call it
/// once a client is open.
pub fn on_pipewire() -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_to_string("/proc/self/maps")
            .map(|m| m.lines().any(|l| l.contains("libjack") && l.contains("pipewire")))
            .unwrap_or(false)
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// A client that copies its input to its output: the software loop's other end on PipeWire,
/// whose graph (0.3.x) carries nothing from a node's output port to its own input port.
struct Wire {
    inp: jack::Port<jack::AudioIn>,
    out: jack::Port<jack::AudioOut>,
}

impl jack::ProcessHandler for Wire {
    fn process(&mut self, _: &jack::Client, ps: &jack::ProcessScope) -> jack::Control {
        self.out.as_mut_slice(ps).copy_from_slice(self.inp.as_slice(ps));
        jack::Control::Continue
    }
}

/// The name of the loop's second client on PipeWire.
pub const WIRE_CLIENT: &str = "livechain-loop";

/// Plays `probe` in a loop on its output while recording its input.
struct ProbeHandler {
    out: jack::Port<jack::AudioOut>,
    inp: jack::Port<jack::AudioIn>,
    probe: Vec<f32>,
    pos: usize,
    rec: Vec<f32>,
    rec_pos: usize,
    done: Arc<AtomicBool>,
}

impl jack::ProcessHandler for ProbeHandler {
    fn process(&mut self, _: &jack::Client, ps: &jack::ProcessScope) -> jack::Control {
        // Read before writing: a port wired to our own output shares that output's buffer, which
        // still holds the previous cycle until we overwrite it (as jack_iodelay does).
        let inp = self.inp.as_slice(ps);
        let room = self.rec.len() - self.rec_pos;
        let n = room.min(inp.len());
        self.rec[self.rec_pos..self.rec_pos + n].copy_from_slice(&inp[..n]);
        self.rec_pos += n;
        if self.rec_pos == self.rec.len() {
            self.done.store(true, Ordering::Release);
        }
        let out = self.out.as_mut_slice(ps);
        for o in out.iter_mut() {
            *o = self.probe[self.pos];
            self.pos += 1;
            if self.pos == self.probe.len() {
                self.pos = 0;
            }
        }
        jack::Control::Continue
    }
}

/// What a probe run over JACK gives back.
pub struct ProbeRun {
    pub sample_rate: u32,
    pub buffer_size: u32,
    /// Input recorded from the first cycle on, aligned with the probe's first output sample.
    pub recording: Vec<f32>,
    pub xruns: usize,
    /// What the ports report: playback latency of where the probe goes plus capture latency of
    /// where the recording comes from (0 for a software loop).
    pub port_latency: u32,
    /// The software loop went through a second client (PipeWire: see `Wire`).
    pub through_wire: bool,
}

/// Plays `probe` for `frames` samples. With `connect`, our output is wired to our input (a
/// software loop); else `playback`/`capture` name the ports to wire to (a cable loop).
pub fn run_probe(probe: &[f32], frames: usize, connect: bool, playback: Option<&str>, capture: Option<&str>) -> Result<ProbeRun> {
    let client = open_client(CLIENT)?;
    let out = client.register_port("probe_out", jack::AudioOut::default())?;
    let inp = client.register_port("probe_in", jack::AudioIn::default())?;
    let out_name = out.name()?;
    let in_name = inp.name()?;
    let sample_rate = client.sample_rate() as u32;
    let buffer_size = client.buffer_size();
    let done = Arc::new(AtomicBool::new(false));
    let xruns = Arc::new(AtomicUsize::new(0));
    let handler = ProbeHandler { out, inp, probe: probe.to_vec(), pos: 0, rec: vec![0.0; frames], rec_pos: 0, done: done.clone() };
    let active = client.activate_async(Xruns(xruns.clone()), handler)?;
    let c = active.as_client();
    let mut port_latency = 0;
    let mut wire = None;
    if connect && on_pipewire() {
        let w = open_client(WIRE_CLIENT)?;
        let (wire_in, wire_out) = (w.register_port("in", jack::AudioIn::default())?, w.register_port("out", jack::AudioOut::default())?);
        let (wi, wo) = (wire_in.name()?, wire_out.name()?);
        let w = w.activate_async((), Wire { inp: wire_in, out: wire_out })?;
        c.connect_ports_by_name(&out_name, &wi).context("connecting the software loop to its second client")?;
        c.connect_ports_by_name(&wo, &in_name).context("connecting the software loop back from its second client")?;
        wire = Some(w);
    } else if connect {
        c.connect_ports_by_name(&out_name, &in_name).context("connecting the software loop")?;
    } else {
        let (Some(p), Some(q)) = (playback, capture) else {
            bail!("say where the loop is: --connect for a software loop, or --playback PORT and --capture PORT for a cable loop");
        };
        for (from, to) in [(out_name.as_str(), p), (q, in_name.as_str())] {
            c.connect_ports_by_name(from, to).map_err(|e| {
                let ports = c.ports(None, Some("32 bit float mono audio"), jack::PortFlags::empty()).join(", ");
                anyhow!("cannot connect {from} → {to} ({e:?}); audio ports: {ports}")
            })?;
        }
        let lat = |name: &str, mode| c.port_by_name(name).map(|p| p.get_latency_range(mode).1).unwrap_or(0);
        port_latency = lat(p, jack::LatencyType::Playback) + lat(q, jack::LatencyType::Capture);
    }
    let deadline = Instant::now() + Duration::from_secs_f64(frames as f64 / sample_rate as f64 * 3.0 + 5.0);
    while !done.load(Ordering::Acquire) {
        if Instant::now() > deadline {
            bail!("the JACK server stopped calling us: is it running and not frozen?");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (_, _, handler) = active.deactivate()?;
    let through_wire = wire.is_some();
    if let Some(w) = wire {
        w.deactivate()?;
    }
    Ok(ProbeRun { sample_rate, buffer_size, recording: handler.rec, xruns: xruns.load(Ordering::Relaxed), port_latency, through_wire })
}

/// Runs the chain (every stage on) live on JACK: our inputs fed from a probe player, our outputs
/// into a null sink; measures the time each callback takes against its deadline.
struct ChainHandler {
    ins: [jack::Port<jack::AudioIn>; 2],
    outs: [jack::Port<jack::AudioOut>; 2],
    chain: Chain,
    params: Arc<LivechainParams>,
    bridge: Arc<Bridge>,
    busy_ns: u64,
    worst_ns: u64,
    cycles: u64,
    frames: u64,
    quiet: Arc<Quiet>,
}

/// Asks a process callback to go quiet before its client is deactivated, and counts the cycles
/// it has since run quietly. jack2 stops a realtime client's thread with an asynchronous
/// `pthread_cancel`, which may land anywhere in the callback; a cancel that lands in Rust code
/// unwinds into an `extern "C"` frame and aborts the whole program ("FATAL: exception not
/// rethrown": `livechain sweep` at 32 frames, with the chain taking five times its period,
/// ended so). A quiet callback returns at once, so the thread is all but always waiting in
/// JACK's own code when the cancel comes.
#[derive(Default)]
struct Quiet {
    asked: std::sync::atomic::AtomicBool,
    cycles: std::sync::atomic::AtomicU64,
}

impl Quiet {
    /// True (and one more quiet cycle counted) once asked.
    fn now(&self) -> bool {
        let asked = self.asked.load(Ordering::Acquire);
        if asked {
            self.cycles.fetch_add(1, Ordering::Release);
        }
        asked
    }

    /// Asks, and waits for two quiet cycles (the first may have begun before the question) or
    /// `limit`, whichever is first.
    fn ask(&self, limit: Duration) {
        self.asked.store(true, Ordering::Release);
        let t = Instant::now();
        while self.cycles.load(Ordering::Acquire) < 2 && t.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl jack::ProcessHandler for ChainHandler {
    fn process(&mut self, _: &jack::Client, ps: &jack::ProcessScope) -> jack::Control {
        if self.quiet.now() {
            for o in &mut self.outs {
                o.as_mut_slice(ps).fill(0.0);
            }
            return jack::Control::Continue;
        }
        let t = Instant::now();
        let _ftz = livechain::dsp::denormal::DenormalGuard::new();
        let [o0, o1] = &mut self.outs;
        let (a, b) = (o0.as_mut_slice(ps), o1.as_mut_slice(ps));
        a.copy_from_slice(self.ins[0].as_slice(ps));
        b.copy_from_slice(self.ins[1].as_slice(ps));
        let n = a.len() as u64;
        let mut bufs: [&mut [f32]; 2] = [a, b];
        self.chain.process(&mut bufs, &self.params, &self.bridge);
        let ns = t.elapsed().as_nanos() as u64;
        self.busy_ns += ns;
        self.worst_ns = self.worst_ns.max(ns);
        self.cycles += 1;
        self.frames += n;
        jack::Control::Continue
    }
}

/// One row of the sweep: what running the chain live at a buffer size gave.
pub struct LiveRun {
    pub xruns: usize,
    /// Mean and worst callback time over the callback's deadline.
    pub mean_load: f64,
    pub peak_load: f64,
}

/// Runs the chain live for `seconds` with noise at its inputs.
pub fn run_chain(params: Arc<LivechainParams>, seconds: f64) -> Result<LiveRun> {
    let client = open_client("livechain-sweep")?;
    let sr = client.sample_rate() as f32;
    let ins = [client.register_port("in_1", jack::AudioIn::default())?, client.register_port("in_2", jack::AudioIn::default())?];
    let outs = [client.register_port("out_1", jack::AudioOut::default())?, client.register_port("out_2", jack::AudioOut::default())?];
    let names: Vec<String> = ins.iter().map(|p| p.name()).collect::<Result<_, _>>()?;
    let mut chain = Chain::default();
    chain.prepare(sr, 2);
    livechain::host::prime_smoothers(&params, sr);
    chain.reset(&params);
    let xruns = Arc::new(AtomicUsize::new(0));
    let quiet = Arc::new(Quiet::default());
    let handler = ChainHandler {
        ins,
        outs,
        chain,
        params,
        bridge: Arc::new(Bridge::default()),
        busy_ns: 0,
        worst_ns: 0,
        cycles: 0,
        frames: 0,
        quiet: quiet.clone(),
    };
    let active = client.activate_async(Xruns(xruns.clone()), handler)?;
    // A noise source feeding our inputs, so the chain works on signal, not silence.
    let noise = NoiseSource::start(&names)?;
    std::thread::sleep(Duration::from_secs_f64(seconds));
    // (A second is twenty of the longest periods the sweep tries.)
    quiet.ask(Duration::from_secs(1));
    let (_, _, h) = active.deactivate()?;
    drop(noise);
    let period_ns = if h.cycles > 0 { h.frames as f64 / h.cycles as f64 / sr as f64 * 1e9 } else { 1.0 };
    Ok(LiveRun {
        xruns: xruns.load(Ordering::Relaxed),
        mean_load: if h.cycles > 0 { h.busy_ns as f64 / h.cycles as f64 / period_ns } else { 0.0 },
        peak_load: h.worst_ns as f64 / period_ns,
    })
}

/// A small JACK client playing noise into the given ports until dropped.
pub struct NoiseSource(Option<jack::AsyncClient<(), NoiseHandler>>);

pub struct NoiseHandler {
    outs: Vec<jack::Port<jack::AudioOut>>,
    seed: u32,
}

impl jack::ProcessHandler for NoiseHandler {
    fn process(&mut self, _: &jack::Client, ps: &jack::ProcessScope) -> jack::Control {
        for p in &mut self.outs {
            for o in p.as_mut_slice(ps) {
                *o = (livechain::dsp::xorshift32(&mut self.seed) as f32 / u32::MAX as f32 - 0.5) * 0.5;
            }
        }
        jack::Control::Continue
    }
}

impl NoiseSource {
    pub fn start(targets: &[String]) -> Result<Self> {
        let client = open_client("livechain-noise")?;
        let outs: Vec<_> = (0..targets.len())
            .map(|i| client.register_port(&format!("out_{}", i + 1), jack::AudioOut::default()))
            .collect::<Result<_, _>>()?;
        let names: Vec<String> = outs.iter().map(|p| p.name()).collect::<Result<_, _>>()?;
        let active = client.activate_async((), NoiseHandler { outs, seed: 12345 })?;
        for (from, to) in names.iter().zip(targets) {
            active.as_client().connect_ports_by_name(from, to)?;
        }
        Ok(Self(Some(active)))
    }
}

impl Drop for NoiseSource {
    fn drop(&mut self) {
        if let Some(a) = self.0.take() {
            let _ = a.deactivate();
        }
    }
}

/// PipeWire's forced quantum (`clock.force-quantum` in its "settings" metadata; 0 when none is
/// forced), read with `pw-metadata`.
pub fn pipewire_forced_quantum() -> Result<u32> {
    let out = std::process::Command::new("pw-metadata")
        .args(["-n", "settings", "0", "clock.force-quantum"])
        .output()
        .context("running pw-metadata (Debian's pipewire-bin) to read PipeWire's quantum")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.split("value:'").nth(1).and_then(|v| v.split('\'').next()).and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Forces PipeWire's quantum (0: back to what its clients ask for), as `pw-metadata -n settings 0
/// clock.force-quantum N` does: PipeWire's JACK API ignores `jack_set_buffer_size`.
pub fn force_pipewire_quantum(frames: u32) -> Result<()> {
    let status = std::process::Command::new("pw-metadata")
        .args(["-n", "settings", "0", "clock.force-quantum", &frames.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .context("running pw-metadata (Debian's pipewire-bin) to set PipeWire's quantum")?;
    if !status.success() {
        bail!("pw-metadata could not set PipeWire's quantum to {frames} frames ({status})");
    }
    Ok(())
}

/// Sets the JACK server's buffer size (jackd2 changes it live; on PipeWire, its quantum).
pub fn set_buffer_size(frames: u32) -> Result<u32> {
    let client = open_client("livechain-bufsize")?;
    if on_pipewire() {
        force_pipewire_quantum(frames)?;
    } else {
        client.set_buffer_size(frames).map_err(|e| anyhow!("the JACK server refused a buffer size of {frames} frames ({e:?})"))?;
    }
    // The change applies at a cycle boundary: wait for it.
    let t = Instant::now();
    while client.buffer_size() != frames && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(client.buffer_size())
}
