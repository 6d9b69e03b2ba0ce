//! What idle instances cost: 100 instances of the bundled `Livechain.clap` in the CLAP test host
//! (clack-host), every one with the delay and the reverb on, 48 kHz in 250-frame blocks. Times
//! one second of playing (noise in) against one second of silence after the tails have rung out,
//! and prints the ratio (the goal: idle costs at most 2 % of playing). Once the stages are on,
//! the host loop is a lean one, as a DAW engine's: buffers made once, every instance's block in
//! turn.
//!
//! `cargo xtask bundle livechain --release`, then `cargo bench --bench idle`; LIVECHAIN_CLAP
//! names another `.clap`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::clap::*;
use std::time::Instant;

const INSTANCES: usize = 100;
const SR: f64 = 48_000.0;
const BLOCK: usize = 250;

fn main() {
    if std::env::var_os("LIVECHAIN_CLAP").is_none() {
        let release = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bundled/Livechain.clap");
        // SAFETY: set before any thread is started.
        unsafe { std::env::set_var("LIVECHAIN_CLAP", release) };
    }
    let entry = load_entry();
    let mut instances: Vec<_> = (0..INSTANCES).map(|_| new_instance(entry)).collect();
    let table = param_table(&mut instances[0]);
    let on = [(0, param_id(&table, "Delay"), 1.0), (0, param_id(&table, "Reverb"), 1.0)];
    let config = PluginAudioConfiguration { sample_rate: SR, min_frames_count: 1, max_frames_count: BLOCK as u32 };
    let mut procs: Vec<_> = instances
        .iter_mut()
        .map(|inst| {
            select_channels(inst, 2);
            activate(inst, config).start_processing().expect("starts processing")
        })
        .collect();
    let second = SR as usize;
    // Switch the stages on, in the test host's ordinary way.
    let noise: Vec<Vec<f32>> = stereo_noise(second, 0.25, 9).into();
    for proc in procs.iter_mut() {
        run_started(proc, &Spec { sample_rate: SR, blocks: &[BLOCK], in_place: false, events: &on, side: None, notes: &[] }, &noise);
    }
    // From here the host does what a DAW's engine does per block and nothing more: buffers
    // allocated once, no events, every instance's block in turn.
    let mut ports = (AudioPorts::with_capacity(2, 1), AudioPorts::with_capacity(2, 1));
    let mut outs = vec![vec![0.0f32; BLOCK]; 2];
    let mut ins = vec![vec![0.0f32; BLOCK]; 2];
    let mut events = EventBuffer::new();
    let mut run_all = |input: &[Vec<f32>]| {
        let started = Instant::now();
        for start in (0..second).step_by(BLOCK) {
            for proc in procs.iter_mut() {
                for (i, c) in ins.iter_mut().zip(input) {
                    i.copy_from_slice(&c[start..start + BLOCK]);
                }
                let in_audio = ports.0.with_input_buffers([AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only(ins.iter_mut().map(|b| InputChannel::variable(b.as_mut_slice()))),
                }]);
                let mut out_audio = ports.1.with_output_buffers([AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_output_only(outs.iter_mut().map(|b| b.as_mut_slice())),
                }]);
                proc.process(&in_audio, &mut out_audio, &InputEvents::empty(), &mut OutputEvents::from_buffer(&mut events), None, None)
                    .expect("process");
            }
        }
        started.elapsed().as_secs_f64()
    };
    let silence = vec![vec![0.0f32; second]; 2];
    let playing = (0..3).map(|_| run_all(&noise)).fold(f64::MAX, f64::min);
    // The tails (the delay's echoes, 6.1 s) ring out.
    for _ in 0..8 {
        run_all(&silence);
    }
    let idle = (0..3).map(|_| run_all(&silence)).fold(f64::MAX, f64::min);
    println!("{INSTANCES} instances, delay and reverb on, {BLOCK}-frame blocks, one second of audio each, best of 3:");
    println!("  playing: {:8.1} ms  ({:.1} % of a core)", playing * 1e3, playing * 100.0);
    println!("  idle:    {:8.1} ms  ({:.2} % of playing)", idle * 1e3, 100.0 * idle / playing);
    for (proc, inst) in procs.into_iter().zip(instances.iter_mut()) {
        inst.deactivate(proc.stop_processing());
    }
}
