//! What the plugin validators (pluginval, clap-validator, Steinberg's validator) put a plugin
//! through, done here through a real CLAP host (clack-host) on the bundled `.clap`: every odd
//! sample rate and block size, in place and out of place, mono and stereo; parameter storms;
//! activation, reset and reactivation in the middle of a reverb tail. The bundle is built with
//! `assert_process_allocs`, so an allocation in `process()` aborts the test. Needs
//! the bundled `Livechain.clap` (`cargo xtask test`).

mod common;
use common::clap::*;
use common::Lcg;

const RATES: &[f64] = &[8_000.0, 11_025.0, 22_050.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0, 192_000.0, 384_000.0, 44_055.9];
const BLOCKS: &[usize] = &[1, 2, 3, 17, 64, 511, 1024, 4096, 16384];
const MAX_BLOCK: usize = 16384;

/// Noise at −14 dBFS with a full-scale impulse every 5 000 samples: broadband, with peaks.
fn test_signal(channels: usize, frames: usize, seed: u32) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|ch| {
            let mut x = common::noise(frames, 0.2, seed + 17 * ch as u32);
            for i in (100..frames).step_by(5_000) {
                x[i] = if ch == 0 { 1.0 } else { -1.0 };
            }
            x
        })
        .collect()
}

/// Events at sample 0 that turn every stage on (2 ms of compressor lookahead, so the latency
/// changes too) with the safety ceiling at its default −0.3 dBFS.
fn all_on(inst: &mut PluginInstance<TestHost>, table: &[(String, ClapId, f64, f64, f64)]) -> Vec<(usize, ClapId, f64)> {
    let mut ev: Vec<(usize, ClapId, f64)> = ["High-Pass", "Low-Pass", "AGC", "Compressor", "Delay", "Reverb", "Safety Ceiling"]
        .iter()
        .map(|name| (0, param_id(table, name), 1.0))
        .collect();
    let look = param_id(table, "Lookahead");
    ev.push((0, look, text_value(inst, look, "2")));
    ev
}

fn ceiling_linear() -> f32 {
    10f32.powf(-0.3 / 20.0)
}

fn assert_clean(out: &[Vec<f32>], what: &str, ceiling: Option<f32>) {
    for (ch, c) in out.iter().enumerate() {
        for (i, &x) in c.iter().enumerate() {
            assert!(x.is_finite() && !x.is_subnormal(), "{what}: channel {ch} sample {i} is {x}");
            if let Some(limit) = ceiling {
                assert!(x.abs() <= limit + 1e-6, "{what}: channel {ch} sample {i} is {x}, over the ceiling {limit}");
            }
        }
    }
}

#[test]
#[ignore = "system: runs the CLAP validator on the bundled plugin (cargo xtask test)"]
fn processing_matrix_rates_blocks_layouts_and_buffers() {
    let entry = load_entry();
    let started = std::time::Instant::now();
    let mut runs = 0;
    let mut worst_block_diff = 0.0f32;
    for &rate in RATES {
        for channels in [2usize, 1] {
            // Three of the largest blocks, whatever the rate.
            let frames = 3 * MAX_BLOCK + 5;
            let input = test_signal(channels, frames, rate as u32);
            let mut random = Lcg(rate as u64 * 31 + channels as u64);
            let random_blocks: Vec<usize> = (0..4096).map(|_| random.range(1, MAX_BLOCK)).collect();
            let mut kinds: Vec<(String, Vec<usize>)> = BLOCKS.iter().map(|&b| (format!("{b}"), vec![b])).collect();
            // Random sizes with the maximum among them, so the host's declared maximum is used.
            let mut rb = random_blocks.clone();
            rb[1] = MAX_BLOCK;
            kinds.push(("random".into(), rb));
            let mut reference: Option<Vec<Vec<f32>>> = None;
            for (kind, blocks) in &kinds {
                for in_place in [false, true] {
                    let what = format!("{rate} Hz, {channels} ch, blocks {kind}, {}", if in_place { "in place" } else { "out of place" });
                    let mut inst = new_instance(entry);
                    let table = param_table(&mut inst);
                    let events = all_on(&mut inst, &table);
                    let spec = Spec { sample_rate: rate, blocks, in_place, events: &events, side: None, notes: &[] };
                    let out = run_pumping(&mut inst, &spec, &input);
                    runs += 1;
                    assert_clean(&out, &what, Some(ceiling_linear()));
                    for (ch, c) in out.iter().enumerate() {
                        let level = common::rms(&c[frames / 2..]);
                        assert!(level > 1e-3, "{what}: channel {ch} is silent ({level})");
                    }
                    // The sound does not depend on how the host cuts the audio into blocks or
                    // whether it processes in place: every run equals the first one.
                    match &reference {
                        None => reference = Some(out),
                        Some(r) => {
                            let diff = r.iter().flatten().zip(out.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
                            worst_block_diff = worst_block_diff.max(diff);
                            assert!(diff < 1e-5, "{what}: differs from 1-sample blocks by {diff}");
                        }
                    }
                }
            }
        }
    }
    println!(
        "matrix: {runs} runs ({} rates × 2 layouts × {} block patterns × in/out of place), {} frames each, \
         largest difference between block patterns {worst_block_diff:.2e}, {:.1} s",
        RATES.len(),
        BLOCKS.len() + 1,
        3 * MAX_BLOCK + 5,
        started.elapsed().as_secs_f64()
    );
}

/// Random values for every parameter but the ones named in `keep`, one event every `interval`
/// samples, from sample 0.
fn storm(table: &[(String, ClapId, f64, f64, f64)], keep: &[&str], frames: usize, interval: usize, seed: u64) -> Vec<(usize, ClapId, f64)> {
    let free: Vec<_> = table.iter().filter(|p| !keep.contains(&p.0.as_str())).collect();
    let mut rng = Lcg(seed);
    let mut ev: Vec<(usize, ClapId, f64)> = free.iter().map(|p| (0, p.1, p.2 + (p.3 - p.2) * rng.unit() as f64)).collect();
    for t in (interval..frames).step_by(interval) {
        let p = free[rng.range(0, free.len() - 1)];
        ev.push((t, p.1, p.2 + (p.3 - p.2) * rng.unit() as f64));
    }
    ev
}

#[test]
#[ignore = "system: runs the CLAP validator on the bundled plugin (cargo xtask test)"]
fn parameter_storms_stay_finite_and_under_the_ceiling() {
    let entry = load_entry();
    let frames = 48_000;
    for interval in [1usize, 10, 100, 1000] {
        for seed in 1..=3u64 {
            // The ceiling on and fixed, the bypass off (a bypassed plugin passes its input
            // untouched, peaks and all): nothing may pass the ceiling.
            let mut inst = new_instance(entry);
            let table = param_table(&mut inst);
            let mut events = storm(&table, &["Bypass", "Safety Ceiling", "Ceiling"], frames, interval, seed * 1000 + interval as u64);
            events.insert(0, (0, param_id(&table, "Safety Ceiling"), 1.0));
            let input = test_signal(2, frames, seed as u32);
            let mut rng = Lcg(seed);
            let blocks: Vec<usize> = (0..512).map(|_| rng.range(1, 1024)).collect();
            let spec = Spec { sample_rate: 48_000.0, blocks: &blocks, in_place: false, events: &events, side: None, notes: &[] };
            let out = run_pumping(&mut inst, &spec, &input);
            assert_clean(&out, &format!("storm every {interval} samples, seed {seed}"), Some(ceiling_linear()));

            // Everything free, the bypass and the ceiling included: finite whatever happens.
            let mut inst = new_instance(entry);
            let events = storm(&table, &[], frames, interval, seed * 7 + interval as u64);
            let spec = Spec { sample_rate: 48_000.0, blocks: &blocks, in_place: true, events: &events, side: None, notes: &[] };
            let out = run_pumping(&mut inst, &spec, &input);
            assert_clean(&out, &format!("free storm every {interval} samples, seed {seed}"), None);
        }
    }
    // The storms move every parameter, the lookahead (the latency) included, thousands of times
    // a second, with a host's event loop serving the plugin's main-thread requests as it asks:
    // one latency report per activation and one editor notice per event, and not one of them
    // dropped.
    assert_eq!(dropped_tasks(), 0, "the plugin wrapper dropped main-thread tasks (its queue was full)");
}

#[test]
#[ignore = "system: runs the CLAP validator on the bundled plugin (cargo xtask test)"]
fn reset_and_reactivation_mid_tail_start_clean_at_the_new_rate() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    let decay = param_id(&table, "Decay");
    let wet = param_id(&table, "Dry/Wet");
    let events = vec![
        (0, param_id(&table, "Reverb"), 1.0),
        (0, decay, text_value(&mut inst, decay, "1.5")),
        (0, wet, text_value(&mut inst, wet, "100")),
    ];
    let mut events = events;
    // A plain exponential decay to measure: no damping, early reflections or pre-delay.
    for (name, text) in [("Reverb Level", "100"), ("Damping", "0"), ("Early Reflections", "0"), ("Pre-Delay", "0")] {
        let id = param_id(&table, name);
        events.push((0, id, text_value(&mut inst, id, text)));
    }
    // The impulse comes 0.1 s in, after the stage's click-free fade-in.
    let impulse = |channels: usize, frames: usize, at: usize| {
        let mut x = vec![vec![0.0f32; frames]; channels];
        for c in x.iter_mut() {
            c[at] = 1.0;
        }
        x
    };
    select_channels(&mut inst, 2);
    let mut rt = Vec::new();
    for (k, &rate) in [48_000.0f64, 96_000.0, 44_100.0].iter().enumerate() {
        let config = PluginAudioConfiguration { sample_rate: rate, min_frames_count: 1, max_frames_count: 512 };
        let stopped = activate(&mut inst, config);
        let frames = (3.0 * rate) as usize;
        let ev: &[(usize, ClapId, f64)] = if k == 0 { &events } else { &[] };
        let (stopped, measured) = std::thread::scope(|s| {
            s.spawn(move || {
                let mut proc = stopped.start_processing().unwrap();
                let blocks = [512usize];
                // Right after activation at a new rate: silence in, silence out (no tail carried
                // over from the last activation).
                let silence = run_started(
                    &mut proc,
                    &Spec { sample_rate: rate, blocks: &blocks, in_place: false, events: &[], side: None, notes: &[] },
                    &vec![vec![0.0; 2048]; 2],
                );
                let leftover = silence.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
                assert!(leftover < 1e-7, "{rate} Hz: {leftover} comes out of silence after reactivation");
                let spec = Spec { sample_rate: rate, blocks: &blocks, in_place: false, events: ev, side: None, notes: &[] };
                let at = (0.1 * rate) as usize;
                let ir = run_started(&mut proc, &spec, &impulse(2, frames, at));
                // Reset half a second into a new tail: the tail stops at once.
                run_started(
                    &mut proc,
                    &Spec { sample_rate: rate, blocks: &blocks, in_place: false, events: &[], side: None, notes: &[] },
                    &impulse(2, rate as usize / 2, 10),
                );
                proc.reset();
                let after = run_started(
                    &mut proc,
                    &Spec { sample_rate: rate, blocks: &blocks, in_place: false, events: &[], side: None, notes: &[] },
                    &vec![vec![0.0; 2048]; 2],
                );
                let leftover = after.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
                assert!(leftover < 1e-7, "{rate} Hz: {leftover} comes out after reset()");
                // And a deactivation now happens in the middle of that tail.
                run_started(
                    &mut proc,
                    &Spec { sample_rate: rate, blocks: &blocks, in_place: false, events: &[], side: None, notes: &[] },
                    &impulse(2, rate as usize / 4, 10),
                );
                // The late tail: from 10 ms after the impulse (past the direct sound).
                let tail = at + (0.01 * rate) as usize;
                (proc.stop_processing(), common::schroeder_decay_time(&[&ir[0][tail..], &ir[1][tail..]], rate, -25.0))
            })
            .join()
            .unwrap()
        });
        inst.deactivate(stopped);
        rt.push((rate, measured));
    }
    for (rate, t) in &rt {
        println!("{rate} Hz: T20 {t:.3} s for a 1.5 s decay");
        assert!((t - 1.5).abs() < 0.1 * 1.5, "{rate} Hz: decay {t:.3} s, set 1.5 s");
    }
}

/// Every parameter's value → text → value conversion, as clap-validator's conversion test does:
/// at eleven points across each range (and the default inside it), the text parses back to a
/// value in range that shows the same text.
#[test]
#[ignore = "system: runs the CLAP validator on the bundled plugin (cargo xtask test)"]
fn every_parameter_converts_to_text_and_back() {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    let mut checked = 0;
    for (name, id, lo, hi, default) in &table {
        assert!(default >= lo && default <= hi, "{name}: default {default} outside {lo}..{hi}");
        for k in 0..=10 {
            let v = lo + (hi - lo) * k as f64 / 10.0;
            let text = value_text(&mut inst, *id, v);
            let back = text_value(&mut inst, *id, &text);
            let again = value_text(&mut inst, *id, back);
            assert_eq!(again, text, "{name}: {v} shows as {text:?}, which parses to {back} shown as {again:?}");
            assert!(back >= *lo && back <= *hi, "{name}: {text:?} parses to {back}, outside {lo}..{hi}");
            checked += 1;
        }
    }
    println!("{checked} conversions over {} parameters", table.len());
}
