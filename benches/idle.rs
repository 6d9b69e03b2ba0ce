//! What idle instances cost: 100 instances of the bundled `Livechain.clap` in the CLAP test host
//! (clack-host), every one with the delay and the reverb on, 48 kHz in 256-frame blocks. Times
//! one second of playing (noise in) against one second of silence after the tails have rung out,
//! and prints the ratio (the goal: idle costs at most 2 % of playing).
//!
//! `cargo xtask bundle livechain --release`, then `cargo bench --bench idle`; LIVECHAIN_CLAP
//! names another `.clap`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::clap::*;
use std::time::Instant;

const INSTANCES: usize = 100;
const SR: f64 = 48_000.0;
const BLOCK: usize = 256;

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
    let noise: Vec<Vec<f32>> = stereo_noise(second, 0.25, 9).into();
    let silence = vec![vec![0.0f32; second]; 2];
    let mut run_all = |input: &[Vec<f32>], events: &[(usize, ClapId, f64)]| {
        let started = Instant::now();
        for proc in procs.iter_mut() {
            run_started(proc, &Spec { sample_rate: SR, blocks: &[BLOCK], in_place: false, events }, input);
        }
        started.elapsed().as_secs_f64()
    };
    run_all(&noise, &on);
    let playing = (0..3).map(|_| run_all(&noise, &[])).fold(f64::MAX, f64::min);
    // The tails (the delay's echoes, 6.1 s) ring out.
    for _ in 0..8 {
        run_all(&silence, &[]);
    }
    let idle = (0..3).map(|_| run_all(&silence, &[])).fold(f64::MAX, f64::min);
    println!("{INSTANCES} instances, delay and reverb on, {BLOCK}-frame blocks, one second of audio each, best of 3:");
    println!("  playing: {:8.1} ms  ({:.1} % of a core)", playing * 1e3, playing * 100.0);
    println!("  idle:    {:8.1} ms  ({:.2} % of playing)", idle * 1e3, 100.0 * idle / playing);
    for (proc, inst) in procs.into_iter().zip(instances.iter_mut()) {
        inst.deactivate(proc.stop_processing());
    }
}
