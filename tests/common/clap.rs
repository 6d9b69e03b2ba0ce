//! A minimal CLAP host on clack-host, shared by the tests that load the bundled plugin.
#![allow(dead_code)]

pub use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_host::events::event_types::ParamValueEvent;
use clack_host::events::Pckn;
pub use clack_host::prelude::*;
use std::ffi::CString;
use std::path::PathBuf;

pub struct Shared;
impl<'a> SharedHandler<'a> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

pub struct TestHost;
impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

pub const PLUGIN_ID: &str = "audio.livechain.livechain";

pub fn bundle_path() -> PathBuf {
    let p = std::env::var_os("LIVECHAIN_CLAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bundled/Livechain.clap"));
    assert!(p.exists(), "{} is missing: run `cargo xtask test`, which bundles it first", p.display());
    p
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
    PluginInstance::<TestHost>::new(|_| Shared, |_| (), entry, &id, &info).expect("instantiates")
}

/// Parameter name → (CLAP id, min, max, default), as the plugin reports them.
pub fn param_table(inst: &mut PluginInstance<TestHost>) -> Vec<(String, ClapId, f64, f64, f64)> {
    let mut handle = inst.plugin_handle();
    let params: PluginParams = handle.get_extension().expect("params extension");
    let mut out = Vec::new();
    for i in 0..params.count(&mut handle) {
        let mut buf = ParamInfoBuffer::new();
        let info = params.get_info(&mut handle, i, &mut buf).expect("param info");
        out.push((
            String::from_utf8_lossy(info.name).into_owned(),
            info.id,
            info.min_value,
            info.max_value,
            info.default_value,
        ));
    }
    out
}

pub fn param_id(table: &[(String, ClapId, f64, f64, f64)], name: &str) -> ClapId {
    table.iter().find(|p| p.0 == name).unwrap_or_else(|| panic!("no parameter named {name}")).1
}

/// Converts a value as the user types it ("6 dB") to the CLAP value, the way a host does.
pub fn text_value(inst: &mut PluginInstance<TestHost>, id: ClapId, text: &str) -> f64 {
    let mut handle = inst.plugin_handle();
    let params: PluginParams = handle.get_extension().unwrap();
    let c = CString::new(text).unwrap();
    params.text_to_value(&mut handle, id, &c).unwrap_or_else(|| panic!("plugin cannot parse {text:?}"))
}

pub fn get_value(inst: &mut PluginInstance<TestHost>, id: ClapId) -> f64 {
    let mut handle = inst.plugin_handle();
    let params: PluginParams = handle.get_extension().unwrap();
    params.get_value(&mut handle, id).unwrap()
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
    let frames = input[0].len();
    let max_block = *blocks.iter().max().unwrap();
    let config = PluginAudioConfiguration {
        sample_rate,
        min_frames_count: 1,
        max_frames_count: max_block as u32,
    };
    let stopped = inst.activate(|_, _| (), config).expect("activates");
    // Audio runs on its own thread, as in every DAW: the wrapper treats calls from the thread
    // that created the instance as main-thread calls.
    let (stopped, out) = std::thread::scope(|scope| {
        scope.spawn(move || run_blocks(stopped, frames, blocks, input, events)).join().expect("the audio thread")
    });
    inst.deactivate(stopped);
    out
}

fn run_blocks(
    stopped: StoppedPluginAudioProcessor<TestHost>,
    frames: usize,
    blocks: &[usize],
    input: &[Vec<f32>; 2],
    events: &[(usize, ClapId, f64)],
) -> (StoppedPluginAudioProcessor<TestHost>, [Vec<f32>; 2]) {
    let mut proc = stopped.start_processing().expect("starts processing");
    let mut out = [vec![0.0f32; frames], vec![0.0f32; frames]];
    let mut in_ports = AudioPorts::with_capacity(2, 1);
    let mut out_ports = AudioPorts::with_capacity(2, 1);
    let mut start = 0;
    let mut k = 0;
    while start < frames {
        let n = blocks[k % blocks.len()].min(frames - start);
        k += 1;
        let mut ib = [input[0][start..start + n].to_vec(), input[1][start..start + n].to_vec()];
        let mut ob = [vec![0.0f32; n], vec![0.0f32; n]];
        let evs: Vec<ParamValueEvent> = events
            .iter()
            .filter(|(t, _, _)| *t >= start && *t < start + n)
            .map(|(t, id, v)| ParamValueEvent::new((*t - start) as u32, *id, Pckn::match_all(), *v))
            .collect();
        let in_events = InputEvents::from_buffer(&evs);
        let mut out_events_buf = EventBuffer::new();
        let mut out_events = OutputEvents::from_buffer(&mut out_events_buf);
        let in_audio = in_ports.with_input_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(ib.iter_mut().map(|b| InputChannel::variable(b.as_mut_slice()))),
        }]);
        let mut out_audio = out_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(ob.iter_mut().map(|b| b.as_mut_slice())),
        }]);
        proc.process(&in_audio, &mut out_audio, &in_events, &mut out_events, None, None).expect("process");
        for ch in 0..2 {
            out[ch][start..start + n].copy_from_slice(&ob[ch]);
        }
        start += n;
    }
    (proc.stop_processing(), out)
}

/// Two channels of deterministic noise.
pub fn stereo_noise(frames: usize, amp: f32, seed: u32) -> [Vec<f32>; 2] {
    [super::noise(frames, amp, seed), super::noise(frames, amp, seed.wrapping_mul(7919).wrapping_add(1))]
}
