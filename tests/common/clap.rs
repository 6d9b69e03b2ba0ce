//! A minimal CLAP host on clack-host, shared by the tests that load the bundled plugin.
#![allow(dead_code)]

pub use clack_extensions::audio_ports_config::PluginAudioPortsConfig;
pub use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_host::events::event_types::{NoteOffEvent, NoteOnEvent, ParamValueEvent};
use clack_host::events::{Match, Pckn};
pub use clack_host::prelude::*;
use std::ffi::CString;
use std::path::PathBuf;

/// What the plugin asked the host for, from any thread.
#[derive(Default)]
pub struct Shared {
    pub callback_requested: std::sync::atomic::AtomicBool,
    pub restarts: std::sync::atomic::AtomicUsize,
}
impl<'a> SharedHandler<'a> for Shared {
    fn request_restart(&self) {
        self.restarts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn request_process(&self) {}
    fn request_callback(&self) {
        self.callback_requested.store(true, std::sync::atomic::Ordering::Release);
    }
}

/// The host side of the gui extension: nice-plug's editor needs it to open. Resize requests are
/// granted (the window is embedded at the size the editor asks for).
impl clack_extensions::gui::HostGuiImpl for Shared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, _size: clack_extensions::gui::GuiSize) -> Result<(), HostError> {
        Ok(())
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

/// The host's main-thread side: counts the plugin's "latency changed" notices, and holds the
/// plugin to the CLAP rule for them: `clap_host_latency.changed` is [main-thread &
/// being-activated]. A notice outside `activate` (see `activate` below) is recorded, and the
/// host fails the test when it is dropped.
#[derive(Default)]
pub struct MainThread {
    pub latency_changed: std::cell::Cell<u32>,
    /// True while the host is inside the plugin's `activate`.
    pub activating: std::cell::Cell<bool>,
    pub latency_changed_outside_activate: std::cell::Cell<u32>,
}
impl<'a> MainThreadHandler<'a> for MainThread {}
impl clack_extensions::latency::HostLatencyImpl for MainThread {
    fn changed(&self) {
        if self.activating.get() {
            self.latency_changed.set(self.latency_changed.get() + 1);
        } else {
            self.latency_changed_outside_activate.set(self.latency_changed_outside_activate.get() + 1);
        }
    }
}
impl Drop for MainThread {
    fn drop(&mut self) {
        let bad = self.latency_changed_outside_activate.get();
        if bad > 0 && !std::thread::panicking() {
            panic!("the plugin called clap_host_latency.changed {bad} times outside clap_plugin.activate (CLAP: main-thread & being-activated)");
        }
    }
}

/// Activates the plugin, telling the host's latency extension that it is inside `activate`.
pub fn activate(inst: &mut PluginInstance<TestHost>, config: PluginAudioConfiguration) -> StoppedPluginAudioProcessor<TestHost> {
    inst.access_handler(|h| h.activating.set(true));
    let stopped = inst.activate(|_, _| (), config);
    inst.access_handler(|h| h.activating.set(false));
    stopped.expect("activates")
}

pub struct TestHost;
impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = MainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<clack_extensions::gui::HostGui>().register::<clack_extensions::latency::HostLatency>();
    }
}

/// What the plugin sent the host from `process()`, in order: gesture begins and ends and values
/// (kind, parameter, value), as the editor's edits arrive at a host.
pub static OUT_EVENTS: std::sync::Mutex<Vec<(OutKind, u32, f64)>> = std::sync::Mutex::new(Vec::new());

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutKind {
    Begin,
    Value,
    End,
}

fn record_out_events(buffer: &EventBuffer) {
    use clack_host::events::event_types::{ParamGestureBeginEvent, ParamGestureEndEvent};
    let mut out = OUT_EVENTS.lock().unwrap_or_else(|e| e.into_inner());
    for e in buffer.iter() {
        if let Some(b) = e.as_event::<ParamGestureBeginEvent>() {
            out.push((OutKind::Begin, b.param_id().map_or(u32::MAX, |i| i.get()), 0.0));
        } else if let Some(b) = e.as_event::<ParamGestureEndEvent>() {
            out.push((OutKind::End, b.param_id().map_or(u32::MAX, |i| i.get()), 0.0));
        } else if let Some(v) = e.as_event::<ParamValueEvent>() {
            out.push((OutKind::Value, v.param_id().map_or(u32::MAX, |i| i.get()), v.value()));
        }
    }
}

pub const PLUGIN_ID: &str = "audio.livechain.livechain";

pub fn bundle_path() -> PathBuf {
    match std::env::var_os("LIVECHAIN_CLAP") {
        Some(p) => PathBuf::from(p),
        None => super::bundled("Livechain.clap"),
    }
}

/// Tasks nice-plug's wrappers in the loaded plugin dropped because their main-thread queue was
/// full (the plugin counts them from the wrappers' warnings: `livechain_dropped_tasks`).
pub fn dropped_tasks() -> u32 {
    // SAFETY: the library clack-host loaded (the same handle); the symbol is `extern "C" fn() -> u32`.
    let lib = unsafe { libloading::Library::new(bundle_path()) }.expect("the .clap loads");
    let f: libloading::Symbol<unsafe extern "C" fn() -> u32> =
        unsafe { lib.get(b"livechain_dropped_tasks") }.expect("livechain_dropped_tasks");
    let n = unsafe { f() };
    // Never unloaded (see `load_entry`).
    std::mem::forget(lib);
    n
}

/// Loads the plugin library and never unloads it, as DAWs do: unloading a Rust library while
/// test threads still hold its thread-local destructors crashes those threads when they exit.
pub fn load_entry() -> &'static PluginEntry {
    // SAFETY: loading our own freshly built plugin library.
    let entry = unsafe { PluginEntry::load(bundle_path()) }.expect("the .clap loads");
    Box::leak(Box::new(entry))
}

pub fn new_instance(entry: &PluginEntry) -> PluginInstance<TestHost> {
    let info = HostInfo::new("livechain-test", "Livechain", "https://livechain.invalid", "1.0").unwrap();
    let id = CString::new(PLUGIN_ID).unwrap();
    PluginInstance::<TestHost>::new(|_| Shared::default(), |_| MainThread::default(), entry, &id, &info).expect("instantiates")
}

/// Parameter name → (CLAP id, min, max, default), as the plugin reports them.
pub fn param_table(inst: &mut PluginInstance<TestHost>) -> Vec<(String, ClapId, f64, f64, f64)> {
    let handle = inst.plugin_handle();
    let params: PluginParams = handle.get_extension().expect("params extension");
    let mut out = Vec::new();
    for i in 0..params.count(&handle) {
        let mut buf = ParamInfoBuffer::new();
        let info = params.get_info(&handle, i, &mut buf).expect("param info");
        out.push((String::from_utf8_lossy(info.name).into_owned(), info.id, info.min_value, info.max_value, info.default_value));
    }
    out
}

pub fn param_id(table: &[(String, ClapId, f64, f64, f64)], name: &str) -> ClapId {
    table.iter().find(|p| p.0 == name).unwrap_or_else(|| panic!("no parameter named {name}")).1
}

/// Runs the main-thread callback the plugin asked for, if it asked, as a host's event loop does.
/// Waits for `cond`, running the plugin's main-thread callbacks as a host's event loop does.
pub fn pump_until(inst: &mut PluginInstance<TestHost>, what: &str, timeout: std::time::Duration, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    loop {
        pump_main_thread(inst);
        if cond() {
            return;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

pub fn pump_main_thread(inst: &mut PluginInstance<TestHost>) {
    if inst.access_shared_handler(|s| s.callback_requested.swap(false, std::sync::atomic::Ordering::AcqRel)) {
        inst.call_on_main_thread_callback();
    }
}

/// The latency the plugin reports to the host now, in samples.
pub fn reported_latency(inst: &mut PluginInstance<TestHost>) -> u32 {
    let handle = inst.plugin_handle();
    let latency: clack_extensions::latency::PluginLatency = handle.get_extension().expect("latency extension");
    latency.get(&handle)
}

/// Converts a value as the user types it ("6 dB") to the CLAP value, the way a host does.
pub fn text_value(inst: &mut PluginInstance<TestHost>, id: ClapId, text: &str) -> f64 {
    let handle = inst.plugin_handle();
    let params: PluginParams = handle.get_extension().unwrap();
    let c = CString::new(text).unwrap();
    params.text_to_value(&handle, id, &c).unwrap_or_else(|| panic!("plugin cannot parse {text:?}"))
}

/// The plugin's text for a value, as a host shows it.
pub fn value_text(inst: &mut PluginInstance<TestHost>, id: ClapId, value: f64) -> String {
    let handle = inst.plugin_handle();
    let params: PluginParams = handle.get_extension().unwrap();
    let mut buf = [0u8; 256];
    let text = params.value_to_text(&handle, id, value, &mut buf).unwrap_or_else(|_| panic!("no text for {value}"));
    String::from_utf8_lossy(text).trim_end_matches('\0').to_string()
}

pub fn get_value(inst: &mut PluginInstance<TestHost>, id: ClapId) -> f64 {
    let handle = inst.plugin_handle();
    let params: PluginParams = handle.get_extension().unwrap();
    params.get_value(&handle, id).unwrap()
}

/// Runs `input` (stereo, `frames` long) through the plugin in blocks of `block`, with `events`
/// (absolute sample time, id, value) delivered inside the block they fall in.
pub fn process(
    inst: &mut PluginInstance<TestHost>,
    sample_rate: f64,
    block: usize,
    input: &[Vec<f32>; 2],
    events: &[(usize, ClapId, f64)],
) -> [Vec<f32>; 2] {
    let blocks = vec![block; input[0].len() / block + 1];
    process_blocks(inst, sample_rate, &blocks, input, events)
}

/// Like `process`, with the block sizes given one by one (cycled if they run out).
pub fn process_blocks(
    inst: &mut PluginInstance<TestHost>,
    sample_rate: f64,
    blocks: &[usize],
    input: &[Vec<f32>; 2],
    events: &[(usize, ClapId, f64)],
) -> [Vec<f32>; 2] {
    let spec = Spec { sample_rate, blocks, in_place: false, events, side: None, notes: &[] };
    let mut out = run(inst, &spec, input).into_iter();
    [out.next().unwrap(), out.next().unwrap()]
}

/// nice-plug's CLAP state stream: the JSON's length (u64, little-endian), then the JSON.
pub fn framed(json: &[u8]) -> Vec<u8> {
    let mut v = (json.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(json);
    v
}

pub fn save(inst: &mut PluginInstance<TestHost>) -> Vec<u8> {
    let h = inst.plugin_handle();
    let state: clack_extensions::state::PluginState = h.get_extension().expect("state extension");
    let mut out = Vec::new();
    state.save(&h, &mut out).expect("save");
    out
}

/// Loads a saved state; false when the plugin refused it.
pub fn load(inst: &mut PluginInstance<TestHost>, bytes: &[u8]) -> bool {
    let h = inst.plugin_handle();
    let state: clack_extensions::state::PluginState = h.get_extension().expect("state extension");
    state.load(&h, &mut &bytes[..]).is_ok()
}

/// Sets parameters on an inactive instance, as a host does before activating it: `params.flush`
/// on the main thread.
pub fn flush(inst: &mut PluginInstance<TestHost>, changes: &[(ClapId, f64)]) {
    let ev: Vec<ParamValueEvent> = changes.iter().map(|&(id, v)| ParamValueEvent::new(0, id, Pckn::match_all(), v)).collect();
    let params: PluginParams = inst.plugin_handle().get_extension().expect("params extension");
    let mut handle = inst.inactive_plugin_handle().expect("flushed while inactive");
    let mut out = EventBuffer::new();
    params.flush(&mut handle, &InputEvents::from_buffer(&ev), &mut OutputEvents::from_buffer(&mut out));
}

/// Every parameter's current value, in `param_table` order.
pub fn values(inst: &mut PluginInstance<TestHost>, table: &[(String, ClapId, f64, f64, f64)]) -> Vec<f64> {
    table.iter().map(|p| get_value(inst, p.1)).collect()
}

/// How a host drives one activation: rate, block sizes (cycled), channel layout and buffers.
pub struct Spec<'a> {
    pub sample_rate: f64,
    pub blocks: &'a [usize],
    /// The output buffers are the input buffers, as hosts that process in place hand them over.
    pub in_place: bool,
    /// (absolute sample, id, value), sorted by time.
    pub events: &'a [(usize, ClapId, f64)],
    /// The sidechain port's input (one Vec per channel, the input's length); silence when None.
    pub side: Option<&'a [Vec<f32>]>,
    /// Notes: (absolute sample, key, velocity; 0 for a note-off), sorted by time.
    pub notes: &'a [(usize, u8, f64)],
}

/// Picks the plugin's audio-ports configuration with `channels` in and out (before activation).
pub fn select_channels(inst: &mut PluginInstance<TestHost>, channels: usize) {
    let handle = inst.plugin_handle();
    let configs: PluginAudioPortsConfig = handle.get_extension().expect("audio-ports-config extension");
    let mut buf = clack_extensions::audio_ports_config::AudioPortsConfigBuffer::new();
    let id = (0..configs.count(&handle))
        .filter_map(|i| configs.get(&handle, i, &mut buf).map(|c| (c.id, c.main_input.map(|p| p.channel_count))))
        .find(|(_, ch)| *ch == Some(channels as u32))
        .unwrap_or_else(|| panic!("no {channels}-channel configuration"))
        .0;
    configs.select(&handle, id).expect("selects the configuration");
}

/// One activation: `input` (one Vec per channel) through the plugin as `spec` says, on an audio
/// thread of its own. Returns the output.
pub fn run(inst: &mut PluginInstance<TestHost>, spec: &Spec, input: &[Vec<f32>]) -> Vec<Vec<f32>> {
    activation(inst, spec, input, false)
}

/// Processes `input` through an already started processor (any channel count, in place or not);
/// `spec.events` must be sorted by time.
pub fn run_started(proc: &mut StartedPluginAudioProcessor<TestHost>, spec: &Spec, input: &[Vec<f32>]) -> Vec<Vec<f32>> {
    run_started_with_status(proc, spec, input).0
}

/// `run_started`, also returning what the plugin's `process` returned for each block.
pub fn run_started_with_status(
    proc: &mut StartedPluginAudioProcessor<TestHost>,
    spec: &Spec,
    input: &[Vec<f32>],
) -> (Vec<Vec<f32>>, Vec<ProcessStatus>) {
    run_blocks(proc, spec, input, || {})
}

/// One activation like `run`, with the host's event loop keeping up: after every block the audio
/// thread waits until the main thread has served the plugin's main-thread callback, if it asked
/// for one (a host calls it at its GUI rate in real time; here the audio runs many times faster,
/// so it waits for the loop instead).
pub fn run_pumping(inst: &mut PluginInstance<TestHost>, spec: &Spec, input: &[Vec<f32>]) -> Vec<Vec<f32>> {
    activation(inst, spec, input, true)
}

/// `run` (`pump` false: the main thread only waits) or `run_pumping`.
fn activation(inst: &mut PluginInstance<TestHost>, spec: &Spec, input: &[Vec<f32>], pump: bool) -> Vec<Vec<f32>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    select_channels(inst, input.len());
    let config = PluginAudioConfiguration {
        sample_rate: spec.sample_rate,
        min_frames_count: 1,
        max_frames_count: *spec.blocks.iter().max().unwrap() as u32,
    };
    let mut events = spec.events.to_vec();
    events.sort_by_key(|e| e.0);
    let mut notes = spec.notes.to_vec();
    notes.sort_by_key(|e| e.0);
    let spec = &Spec { events: &events, notes: &notes, ..*spec };
    let stopped = activate(inst, config);
    let (served, done) = (AtomicUsize::new(0), AtomicBool::new(false));
    let (served, done) = (&served, &done);
    let (stopped, out) = std::thread::scope(|scope| {
        let audio = scope.spawn(move || {
            let mut proc = stopped.start_processing().expect("starts processing");
            let (out, _) = run_blocks(&mut proc, spec, input, || {
                // Two turns of the loop: one that began after this block ended.
                let seen = served.load(Ordering::Acquire);
                while pump && served.load(Ordering::Acquire) < seen + 2 {
                    std::thread::yield_now();
                }
            });
            done.store(true, Ordering::Release);
            (proc.stop_processing(), out)
        });
        while pump && !done.load(Ordering::Acquire) {
            pump_main_thread(inst);
            served.fetch_add(1, Ordering::AcqRel);
            std::thread::yield_now();
        }
        audio.join().expect("the audio thread")
    });
    if pump {
        pump_main_thread(inst);
    }
    inst.deactivate(stopped);
    out
}

/// Processes `input` block after block, calling `after_block` after each.
fn run_blocks(
    proc: &mut StartedPluginAudioProcessor<TestHost>,
    spec: &Spec,
    input: &[Vec<f32>],
    mut after_block: impl FnMut(),
) -> (Vec<Vec<f32>>, Vec<ProcessStatus>) {
    let mut statuses = Vec::new();
    let channels = input.len();
    let frames = input[0].len();
    let mut out = vec![vec![0.0f32; frames]; channels];
    // Every port the plugin declares gets a buffer: the main input, then the sidechain (as wide
    // as the main one: the plugin's layouts pair them so).
    let mut in_ports = AudioPorts::with_capacity(2 * channels, 2);
    let mut out_ports = AudioPorts::with_capacity(channels, 1);
    let (mut start, mut k, mut first_event, mut first_note) = (0, 0, 0, 0);
    while start < frames {
        let n = spec.blocks[k % spec.blocks.len()].min(frames - start);
        k += 1;
        let mut ib: Vec<Vec<f32>> = input.iter().map(|c| c[start..start + n].to_vec()).collect();
        let mut sb: Vec<Vec<f32>> = match spec.side {
            Some(side) => side.iter().map(|c| c[start..start + n].to_vec()).collect(),
            None => vec![vec![0.0f32; n]; channels],
        };
        let mut ob = vec![vec![0.0f32; n]; channels];
        let last_event = first_event + spec.events[first_event..].iter().take_while(|e| e.0 < start + n).count();
        let last_note = first_note + spec.notes[first_note..].iter().take_while(|e| e.0 < start + n).count();
        let mut evs = EventBuffer::new();
        for (t, id, v) in &spec.events[first_event..last_event] {
            evs.push(&ParamValueEvent::new((*t - start) as u32, *id, Pckn::match_all(), *v));
        }
        for (t, key, velocity) in &spec.notes[first_note..last_note] {
            let (time, pckn) = ((*t - start) as u32, Pckn::new(0u16, 0u16, *key as u16, Match::All));
            if *velocity > 0.0 {
                evs.push(&NoteOnEvent::new(time, pckn, *velocity));
            } else {
                evs.push(&NoteOffEvent::new(time, pckn, 0.0));
            }
        }
        evs.sort();
        first_event = last_event;
        first_note = last_note;
        let in_events = InputEvents::from_buffer(&evs);
        let mut out_events_buf = EventBuffer::new();
        let mut out_events = OutputEvents::from_buffer(&mut out_events_buf);
        let mut in_ptrs: Vec<*mut f32> = ib.iter_mut().map(|b| b.as_mut_ptr()).collect();
        let in_audio = in_ports.with_input_buffers([
            AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_input_only(
                    ib.iter_mut().map(|b| InputChannel::variable(b.as_mut_slice())).collect::<Vec<_>>().into_iter(),
                ),
            },
            AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_input_only(
                    sb.iter_mut().map(|b| InputChannel::variable(b.as_mut_slice())).collect::<Vec<_>>().into_iter(),
                ),
            },
        ]);
        let mut out_audio = out_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(ob.iter_mut().map(|b| b.as_mut_slice())),
        }]);
        if spec.in_place {
            // The same memory on both sides, as a host processing in place passes it.
            out_audio.as_raw_buffers()[0].data32 = in_ptrs.as_mut_ptr();
        }
        statuses.push(proc.process(&in_audio, &mut out_audio, &in_events, &mut out_events, None, None).expect("process"));
        record_out_events(&out_events_buf);
        let result = if spec.in_place { &ib } else { &ob };
        for ch in 0..channels {
            out[ch][start..start + n].copy_from_slice(&result[ch]);
        }
        start += n;
        after_block();
    }
    (out, statuses)
}

/// Two channels of deterministic noise.
pub fn stereo_noise(frames: usize, amp: f32, seed: u32) -> [Vec<f32>; 2] {
    [super::noise(frames, amp, seed), super::noise(frames, amp, seed.wrapping_mul(7919).wrapping_add(1))]
}
