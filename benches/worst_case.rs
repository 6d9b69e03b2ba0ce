//! Worst case, not only the mean: a million 32-frame blocks (11 minutes of stereo 48 kHz audio)
//! through the whole chain with every stage on and the output's meters running, while parameters
//! are automated, every block timed. Prints p50, p99, p99.9, p99.99 and the maximum block time
//! against the block's deadline (32 / 48000 s = 667 µs). `cargo bench --bench worst_case`
//! (or `cargo xtask worst-case`); `-- BLOCKS` sets another count, `-- --steady` runs without the
//! automation (what is left of the tail then is the machine's, not the parameters');
//! `-- --canceller` puts the feedback suppressor in mode canceller (its costliest), held there.

use livechain::host::OfflineHost;
use std::time::Instant;

const SR: f32 = 48_000.0;
const BLOCK: usize = 32;

fn main() {
    let blocks: usize = std::env::args().skip(1).filter(|a| !a.starts_with('-')).find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let steady = std::env::args().any(|a| a == "--steady");
    let canceller = std::env::args().any(|a| a == "--canceller");
    let mut host = OfflineHost::new(SR, 2);
    for (id, v) in livechain::host::all_on() {
        host.set(id, v).unwrap();
    }
    if canceller {
        host.set("fb_mode", 3.0).unwrap();
    }
    host.settle();
    host.enable_analysis(false);
    // (The automated parameters do not include the suppressor's mode: the canceller stays.)
    let automated = livechain::host::AUTOMATED;
    let mut rng = 0x1234_5678u32;
    let mut next = move || livechain::dsp::xorshift32(&mut rng);
    let (mut l, mut r) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    let mut times = Vec::with_capacity(blocks);
    let mut phase = 0.0f32;
    for b in 0..blocks {
        // A new value for one parameter every 16 blocks (about every 10 ms).
        if b % 16 == 0 && !steady {
            let (id, lo, hi) = automated[next() as usize % automated.len()];
            let t = next() as f32 / u32::MAX as f32;
            host.set(id, lo + t * (hi - lo)).unwrap();
        }
        for i in 0..BLOCK {
            let noise = (next() as f32 / u32::MAX as f32 - 0.5) * 0.2;
            phase += 0.057;
            l[i] = 0.3 * phase.sin() + noise;
            r[i] = 0.3 * (phase * 1.01).cos() - noise;
        }
        let mut buf: [&mut [f32]; 2] = [&mut l, &mut r];
        let t = Instant::now();
        host.process(&mut buf);
        times.push(t.elapsed().as_nanos() as u64);
        assert!(l.iter().chain(r.iter()).all(|x| x.is_finite()));
    }
    times.sort_unstable();
    let deadline_ns = BLOCK as f64 / SR as f64 * 1e9;
    let total: u64 = times.iter().sum();
    println!(
        "worst case: {blocks} blocks of {BLOCK} frames, stereo {SR} Hz, every stage on{}, meters on, {}",
        if canceller { " (the feedback suppressor in mode canceller)" } else { "" },
        if steady { "no automation" } else { "automation every 16 blocks" }
    );
    println!(
        "deadline {:.1} µs per block; mean {:.2} µs ({:.2} % of the deadline)",
        deadline_ns / 1e3,
        total as f64 / blocks as f64 / 1e3,
        100.0 * total as f64 / blocks as f64 / deadline_ns
    );
    for (name, q) in [("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999), ("p99.99", 0.9999), ("max", 1.0)] {
        let idx = ((q * blocks as f64).ceil() as usize).clamp(1, blocks) - 1;
        let ns = times[idx] as f64;
        println!("{name:>7}: {:9.2} µs = {:6.2} % of the deadline", ns / 1e3, 100.0 * ns / deadline_ns);
    }
}
