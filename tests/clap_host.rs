//! A real CLAP host (clack-host) loads the bundled `Livechain.clap` and checks what a DAW relies
//! on: the descriptor, activation at common rates, sample-accurate parameter events, the gain
//! after smoothing, state save/load, and a bit-exact bypass.
//!
//! Needs `target/bundled/Livechain.clap`: `cargo xtask test` bundles it first.

use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::ParamValueEvent;
use clack_host::events::Pckn;
use clack_host::prelude::*;
use std::ffi::CString;
use std::path::PathBuf;

struct Shared;
impl<'a> SharedHandler<'a> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

struct TestHost;
impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

const PLUGIN_ID: &str = "audio.livechain.livechain";

fn bundle_path() -> PathBuf {
    let p = std::env::var_os("LIVECHAIN_CLAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bundled/Livechain.clap"));
    assert!(p.exists(), "{} is missing: run `cargo xtask test`, which bundles it first", p.display());
    p
}

/// Loads the plugin library and never unloads it, as DAWs do: unloading a Rust library while
/// test threads still hold its thread-local destructors crashes those threads when they exit.
fn load_entry() -> &'static PluginEntry {
    // SAFETY: loading our own freshly built plugin library.
    let entry = unsafe { PluginEntry::load(bundle_path()) }.expect("the .clap loads");
    Box::leak(Box::new(entry))
}

fn new_instance(entry: &PluginEntry) -> PluginInstance<TestHost> {
    let info = HostInfo::new("livechain-test", "Livechain", "https://livechain.invalid", "1.0").unwrap();
    let id = CString::new(PLUGIN_ID).unwrap();
    PluginInstance::<TestHost>::new(|_| Shared, |_| (), entry, &id, &info).expect("instantiates")
}

/// Parameter name → (CLAP id, min, max, default), as the plugin reports them.
fn param_table(inst: &mut PluginInstance<TestHost>) -> Vec<(String, ClapId, f64, f64, f64)> {
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

fn param_id(table: &[(String, ClapId, f64, f64, f64)], name: &str) -> ClapId {
    table.iter().find(|p| p.0 == name).unwrap_or_else(|| panic!("no parameter named {name}")).1
}

/// Converts a value as the user types it ("6 dB") to the CLAP value, the way a host does.
fn text_value(inst: &mut PluginInstance<TestHost>, id: ClapId, text: &str) -> f64 {
    let mut handle = inst.plugin_handle();
    let params: PluginParams = handle.get_extension().unwrap();
    let c = CString::new(text).unwrap();
    params.text_to_value(&mut handle, id, &c).unwrap_or_else(|| panic!("plugin cannot parse {text:?}"))
}

fn get_value(inst: &mut PluginInstance<TestHost>, id: ClapId) -> f64 {
    let mut handle = inst.plugin_handle();
    let params: PluginParams = handle.get_extension().unwrap();
    params.get_value(&mut handle, id).unwrap()
}

/// Runs `input` (stereo, `frames` long) through the plugin in blocks of `block`, with `events`
/// (absolute sample time, id, value) delivered inside the block they fall in.
fn process(
    inst: &mut PluginInstance<TestHost>,
    sample_rate: f64,
    block: usize,
    input: &[Vec<f32>; 2],
    events: &[(usize, ClapId, f64)],
) -> [Vec<f32>; 2] {
    let frames = input[0].len();
    let config = PluginAudioConfiguration {
        sample_rate,
        min_frames_count: 1,
        max_frames_count: block as u32,
    };
    let stopped = inst.activate(|_, _| (), config).expect("activates");
    let mut proc = stopped.start_processing().expect("starts processing");
    let mut out = [vec![0.0f32; frames], vec![0.0f32; frames]];
    let mut in_ports = AudioPorts::with_capacity(2, 1);
    let mut out_ports = AudioPorts::with_capacity(2, 1);
    let mut start = 0;
    while start < frames {
        let n = block.min(frames - start);
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
    inst.deactivate(proc.stop_processing());
    out
}

/// A deterministic noise signal (xorshift), so the test needs no crate for randomness.
fn noise(frames: usize, amp: f32, seed: u32) -> [Vec<f32>; 2] {
    let mut s = seed.max(1);
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        (s as f32 / u32::MAX as f32 * 2.0 - 1.0) * amp
    };
    let l: Vec<f32> = (0..frames).map(|_| next()).collect();
    let r: Vec<f32> = (0..frames).map(|_| next()).collect();
    [l, r]
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / x.len() as f64).sqrt()
}

#[test]
fn descriptor_names_the_plugin_and_its_features() {
    let entry = load_entry();
    let factory = entry.get_plugin_factory().expect("plugin factory");
    let descs: Vec<_> = factory.plugin_descriptors().collect();
    assert_eq!(descs.len(), 1);
    let d = &descs[0];
    assert_eq!(d.id().unwrap().to_str().unwrap(), PLUGIN_ID);
    assert_eq!(d.name().unwrap().to_str().unwrap(), "Livechain");
    let features: Vec<String> = d.features().map(|f| f.to_string_lossy().into_owned()).collect();
    for want in ["audio-effect", "stereo", "mono"] {
        assert!(features.iter().any(|f| f == want), "feature {want} missing from {features:?}");
    }
}

#[test]
fn gain_events_are_sample_accurate_and_settle_exactly_at_every_rate() {
    let entry = load_entry();
    for sr in [44_100.0, 48_000.0, 96_000.0] {
        let mut inst = new_instance(entry);
        let table = param_table(&mut inst);
        let in_gain = param_id(&table, "Input Gain");
        let out_gain = param_id(&table, "Output Gain");
        let plus6 = text_value(&mut inst, in_gain, "6");
        let minus3 = text_value(&mut inst, out_gain, "-3.5");
        let frames = (sr as usize) / 2;
        let input = noise(frames, 0.25, 7);
        // The event lands in the middle of the first 256-frame block.
        let at = 100;
        let out = process(&mut inst, sr, 256, &input, &[(at, in_gain, plus6), (at, out_gain, minus3)]);
        for ch in 0..2 {
            for i in 0..at {
                assert_eq!(out[ch][i], input[ch][i], "sample {i} before the event is untouched");
            }
            assert_ne!(out[ch][at + 1], input[ch][at + 1], "the change starts at the event's sample");
            // After the 20 ms ramp: +6 − 3.5 = +2.5 dB, to 0.01 dB.
            let settle = at + (0.025 * sr) as usize;
            let db = 20.0 * (rms(&out[ch][settle..]) / rms(&input[ch][settle..])).log10();
            assert!((db - 2.5).abs() < 0.01, "{sr} Hz ch{ch}: gain {db:.4} dB, want 2.5");
        }
        assert!((get_value(&mut inst, in_gain) - plus6).abs() < 1e-9);
    }
}

#[test]
fn state_saved_from_one_instance_restores_into_another() {
    let entry = load_entry();
    let mut a = new_instance(entry);
    let table = param_table(&mut a);
    let changes = [("Input Gain", "-7.25"), ("Output Gain", "4.5"), ("Dry/Wet", "37.5")];
    let events: Vec<(usize, ClapId, f64)> = changes
        .iter()
        .map(|(name, text)| {
            let id = param_id(&table, name);
            (0, id, text_value(&mut a, id, text))
        })
        .collect();
    process(&mut a, 48_000.0, 128, &noise(4096, 0.1, 3), &events);
    let mut saved = Vec::new();
    {
        let mut h = a.plugin_handle();
        let state: PluginState = h.get_extension().expect("state extension");
        state.save(&mut h, &mut saved).expect("save");
    }
    let mut b = new_instance(entry);
    {
        let mut h = b.plugin_handle();
        let state: PluginState = h.get_extension().unwrap();
        state.load(&mut h, &mut saved.as_slice()).expect("load");
    }
    for (name, id, _, _, default) in &table {
        let va = get_value(&mut a, *id);
        let vb = get_value(&mut b, *id);
        assert!((va - vb).abs() < 1e-9, "{name}: saved {va}, restored {vb}");
        if changes.iter().any(|c| c.0 == name) {
            assert!((vb - default).abs() > 1e-6, "{name} was changed from its default");
        }
    }
}

#[test]
fn bypass_passes_the_input_bit_for_bit_after_its_fade() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    let bypass = param_id(&table, "Bypass");
    let in_gain = param_id(&table, "Input Gain");
    let loud = text_value(&mut inst, in_gain, "12");
    let input = noise(48_000, 0.3, 11);
    let out = process(&mut inst, 48_000.0, 512, &input, &[(0, in_gain, loud), (10_000, bypass, 1.0)]);
    // The 10 ms equal-power fade is over 480 samples after the event.
    for ch in 0..2 {
        assert!(rms(&out[ch][5_000..9_000]) > 3.0 * rms(&input[ch][5_000..9_000]), "gain active before");
        assert_eq!(&out[ch][10_600..], &input[ch][10_600..], "bypassed output equals input");
        // No click: the fade never jumps more than the signals themselves do.
        let max_in_step = input[ch].windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max) * 4.0;
        for i in 9_990..10_600 {
            assert!((out[ch][i + 1] - out[ch][i]).abs() <= max_in_step * 1.01, "jump at {i}");
        }
    }
}

#[test]
fn a_hand_made_older_state_loads_through_the_migration() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    // Layout v0: no schema field, input gain under `gain`, dry/wet as a 0–1 fraction `drywet`.
    let v0 = br#"{"version":"0.0.9","params":{"gain":{"f32":-4.5},"drywet":{"f32":0.25},"out_gain":{"f32":2.0}},"fields":{}}"#;
    {
        let mut h = inst.plugin_handle();
        let state: PluginState = h.get_extension().unwrap();
        // nice-plug's CLAP stream is the JSON's length (u64, little-endian), then the JSON.
        let mut stream = (v0.len() as u64).to_le_bytes().to_vec();
        stream.extend_from_slice(v0);
        state.load(&mut h, &mut stream.as_slice()).expect("load v0");
    }
    let value_of = |inst: &mut PluginInstance<TestHost>, name: &str, text: &str| {
        let id = param_id(&table, name);
        (get_value(inst, id), text_value(inst, id, text))
    };
    for (name, text) in [("Input Gain", "-4.5"), ("Dry/Wet", "25"), ("Output Gain", "2")] {
        let (got, want) = value_of(&mut inst, name, text);
        assert!((got - want).abs() < 1e-6, "{name}: {got} after migration, want {want}");
    }
}
