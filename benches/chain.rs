//! Criterion benches of the chain: one second of stereo 48 kHz audio per iteration, so the time
//! per iteration reads directly as the fraction of one core the chain needs (1 s = 100 %).
//! Groups: the whole chain with every stage on at several block sizes, each stage alone,
//! silence after a signal (a denormal stall would show up there), the chain with the editor's
//! analysis on, the feedback suppressor with its notches in use, and a summary table in ns per
//! sample and percent of one core.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use livechain::host::{all_on, OfflineHost, Stages};
use std::time::Instant;

const SR: f32 = 48_000.0;

fn signal(frames: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..frames).map(|_| (livechain::dsp::xorshift32(&mut s) as f32 / u32::MAX as f32 * 2.0 - 1.0) * 0.3).collect()
}

fn host_with(settings: &[(&str, f32)]) -> OfflineHost {
    let mut host = OfflineHost::new(SR, 2);
    for (id, v) in settings {
        host.set(id, *v).unwrap();
    }
    host.settle();
    host
}

/// Renders one second through `host` in blocks of `block`.
fn render(host: &mut OfflineHost, l: &[f32], r: &[f32], block: usize, bl: &mut [f32], br: &mut [f32]) {
    for (cl, cr) in l.chunks(block).zip(r.chunks(block)) {
        bl[..cl.len()].copy_from_slice(cl);
        br[..cr.len()].copy_from_slice(cr);
        let mut slices: [&mut [f32]; 2] = [&mut bl[..cl.len()], &mut br[..cr.len()]];
        host.process(&mut slices);
    }
}

fn whole_chain(c: &mut Criterion) {
    // The sound this build makes: tests/output_hash.rs holds the same number.
    println!("output hash (every stage on, seeded input, 64-frame blocks): {:#018x}", livechain::host::reference_output_hash());
    let mut group = c.benchmark_group("chain_all_on");
    group.throughput(Throughput::Elements(SR as u64));
    let l = signal(SR as usize, 1);
    let r = signal(SR as usize, 2);
    for block in [32usize, 64, 128, 256, 1024] {
        let mut host = host_with(&all_on());
        let (mut bl, mut br) = (vec![0.0f32; block], vec![0.0f32; block]);
        group.bench_with_input(BenchmarkId::new("block", block), &block, |b, &block| {
            b.iter(|| render(&mut host, &l, &r, block, &mut bl, &mut br))
        });
    }
    group.finish();
}

fn stages(c: &mut Criterion) {
    let mut group = c.benchmark_group("stage_alone");
    group.throughput(Throughput::Elements(SR as u64));
    let l = signal(SR as usize, 1);
    let r = signal(SR as usize, 2);
    // Every stage off, then each stage of the chain's list alone.
    let rows = std::iter::once(("gains_only".to_string(), vec![]))
        .chain(Stages::infos().map(|s| (s.name.to_lowercase().replace([' ', '-'], "_"), s.on().collect())))
        // The vocoder at its most bands (its own row is the default 16).
        .chain(std::iter::once(("vocoder_64_bands".to_string(), vec![("voc_on", 1.0), ("voc_bands", 64.0)])))
        // The feedback suppressor in mode canceller (its own row is mode notch + fixed).
        .chain(std::iter::once(("feedback_suppressor_canceller".to_string(), vec![("fb_on", 1.0), ("fb_mode", 3.0)])));
    for (name, settings) in rows {
        let mut host = host_with(&settings);
        let (mut bl, mut br) = (vec![0.0f32; 64], vec![0.0f32; 64]);
        group.bench_function(name, |b| b.iter(|| render(&mut host, &l, &r, 64, &mut bl, &mut br)));
    }
    group.finish();
}

fn silence_after_signal(c: &mut Criterion) {
    let mut group = c.benchmark_group("denormals");
    group.throughput(Throughput::Elements(SR as u64));
    let l = signal(SR as usize, 1);
    let r = signal(SR as usize, 2);
    let zeros = vec![0.0f32; SR as usize];
    let (mut bl, mut br) = (vec![0.0f32; 64], vec![0.0f32; 64]);
    let mut host = host_with(&all_on());
    group.bench_function("signal", |b| b.iter(|| render(&mut host, &l, &r, 64, &mut bl, &mut br)));
    // The decaying tails after the signal are where denormals would appear.
    let mut host = host_with(&all_on());
    render(&mut host, &l, &r, 64, &mut bl, &mut br);
    group.bench_function("silence_after_signal", |b| b.iter(|| render(&mut host, &zeros, &zeros, 64, &mut bl, &mut br)));
    group.finish();
}

/// The chain with the plugin's output meters, with the editor closed (loudness and true peak,
/// which measure the whole programme) and open (then also the RMS meters and the spectrum
/// queue, drained as the editor does).
fn with_analysis(c: &mut Criterion) {
    let mut group = c.benchmark_group("chain_with_analysis");
    group.throughput(Throughput::Elements(SR as u64));
    let l = signal(SR as usize, 1);
    let r = signal(SR as usize, 2);
    let (mut bl, mut br) = (vec![0.0f32; 64], vec![0.0f32; 64]);
    for (name, open) in [("editor_closed", false), ("editor_open", true)] {
        let mut host = host_with(&all_on());
        host.enable_analysis(open);
        let bridge = host.bridge.clone();
        let mut rx = bridge.spectrum_rx.lock().unwrap().take().unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                render(&mut host, &l, &r, 64, &mut bl, &mut br);
                if let Ok(chunk) = rx.read_chunk(rx.slots()) {
                    chunk.commit_all();
                }
            })
        });
    }
    group.finish();
}

/// The feedback suppressor alone with notches in use (not reached from the chain without a
/// loop): none, the default eight held still, and its most: sixteen dynamic ones gliding the
/// whole second (their most allowed depth switched between 3 and 24 dB at every analysis, 256
/// frames apart: each moves 4.8 dB toward it and turns back) with the eight fixed ones cutting.
/// Gliding is the dear case: a notch's coefficients are remade every sample while its depth
/// moves.
fn feedback_notches(c: &mut Criterion) {
    use livechain::dsp::feedback::{FeedbackSettings, FeedbackSuppressor, FIXED, MAX_COUNT};
    let mut group = c.benchmark_group("feedback_notches");
    group.throughput(Throughput::Elements(SR as u64));
    let (l, r) = (signal(SR as usize, 1), signal(SR as usize, 2));
    let at = |i: usize| (200.0 * 1.2f32.powi(i as i32), 24.0);
    let fixed: Vec<(f32, f32)> = (0..FIXED).map(|i| (at(2 * i + 1).0, 12.0)).collect();
    // (Name, dynamic notches, fixed ones: frequency and depth.)
    type Notches = Vec<(f32, f32)>;
    let cases: [(&str, Notches, Notches); 3] = [
        ("none", vec![], vec![]),
        ("8_held", (0..8).map(|i| at(2 * i)).collect(), vec![]),
        ("16_gliding_and_8_fixed", (0..MAX_COUNT).map(|i| at(2 * i)).collect(), fixed),
    ];
    for (name, dynamic, fixed) in cases {
        let mut fs = FeedbackSuppressor::default();
        fs.prepare(SR);
        fs.load_fixed(&fixed);
        fs.hold(&dynamic);
        let still = FeedbackSettings { sensitivity: 0.0, release_s: 1e9, notches: MAX_COUNT, ..FeedbackSettings::default() };
        let shallow = FeedbackSettings { max_depth_db: 3.0, ..still };
        let deep = FeedbackSettings { max_depth_db: 24.0, ..still };
        let gliding = name.contains("gliding");
        let (mut bl, mut br) = ([0.0f32; 64], [0.0f32; 64]);
        // (Blocks counted across iterations: the analyses, 4 blocks apart, alternate all along.)
        let mut k = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                for (cl, cr) in l.chunks(64).zip(r.chunks(64)) {
                    let n = cl.len();
                    bl[..n].copy_from_slice(cl);
                    br[..n].copy_from_slice(cr);
                    let s = if !gliding {
                        still
                    } else if (k / 4).is_multiple_of(2) {
                        shallow
                    } else {
                        deep
                    };
                    fs.process_block(&mut [&mut bl[..n], &mut br[..n]], |_| s, &[1.0; 64][..n]);
                    k += 1;
                }
            })
        });
        // What was measured: no howl found in the noise, every notch still in place.
        assert_eq!(fs.found, 0, "{name}: a howl was found");
        assert_eq!(fs.notches().count(), dynamic.len() + fixed.len(), "{name}: notches lost");
    }
    group.finish();
}

/// A summary row: its label, its settings, and the output meters off (None) or on with the
/// editor closed or open.
type Row = (String, Vec<(&'static str, f32)>, Option<bool>);

/// One table at a glance: ns per sample frame and percent of one core, at 64-frame blocks.
fn summary(_: &mut Criterion) {
    let l = signal(SR as usize, 1);
    let r = signal(SR as usize, 2);
    let (mut bl, mut br) = (vec![0.0f32; 64], vec![0.0f32; 64]);
    // The last field: the output meters off (None), or on with the editor closed or open.
    let mut rows: Vec<Row> = vec![("gains only (every stage off)".into(), vec![], None)];
    // Each stage of the chain's list alone (with what its bench row turns on besides its switch).
    for s in Stages::infos() {
        let with: Vec<String> = s.with.iter().map(|(id, v)| format!("{id} {v}")).collect();
        let name = if with.is_empty() { s.name.to_string() } else { format!("{} ({})", s.name, with.join(", ")) };
        rows.push((name, s.on().collect(), None));
    }
    rows.push(("Vocoder, 64 bands".into(), vec![("voc_on", 1.0), ("voc_bands", 64.0)], None));
    rows.push(("Feedback Suppressor + canceller".into(), vec![("fb_on", 1.0), ("fb_mode", 3.0)], None));
    rows.push(("whole chain, every stage on".into(), all_on(), None));
    rows.push(("whole chain + meters, editor closed".into(), all_on(), Some(false)));
    rows.push(("whole chain + meters, editor open".into(), all_on(), Some(true)));
    println!("\nstereo 48 kHz, 64-frame blocks, best of 5 one-second runs:");
    println!("{:36} {:>10} {:>12}", "", "ns/frame", "% of a core");
    for (name, settings, meters) in rows {
        let mut host = host_with(&settings);
        let mut rx = None;
        if let Some(open) = meters {
            host.enable_analysis(open);
            rx = host.bridge.spectrum_rx.lock().unwrap().take();
        }
        let mut run = |host: &mut OfflineHost| {
            render(host, &l, &r, 64, &mut bl, &mut br);
            if let Some(rx) = &mut rx {
                if let Ok(chunk) = rx.read_chunk(rx.slots()) {
                    chunk.commit_all();
                }
            }
        };
        run(&mut host);
        let best = (0..5)
            .map(|_| {
                let t = Instant::now();
                run(&mut host);
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min);
        println!("{name:36} {:10.1} {:11.2}%", best * 1e9 / SR as f64, best * 100.0);
    }
}

criterion_group!(benches, whole_chain, stages, silence_after_signal, with_analysis, feedback_notches, summary);
criterion_main!(benches);
