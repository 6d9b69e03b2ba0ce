//! A fixed workload for profiling under callgrind, whose instruction counts repeat exactly on a
//! noisy machine: 10 s of the seeded stereo signal through the chain in 64-frame blocks with the
//! stages named on the command line switched on (`all` for every stage, `none` for the bare
//! chain; `meters` adds the output meters as they run with the editor closed, `editor` as they
//! run with it open). Compare builds with, for example:
//!
//! `cargo build --release --example stage_profile && valgrind --tool=callgrind
//!  target/release/examples/stage_profile rev_on`
//!
//! (the cost of a stage is its count minus the count for `none`). `silence` runs one second of the
//! signal, then ten seconds of silence (the decaying tails: the denormal case). `automate` sets one
//! of `host::AUTOMATED` to a new value every 16 blocks, as the worst-case bench does.

use livechain::host::OfflineHost;
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut host = OfflineHost::new(48_000.0, 2);
    let silence = args.iter().any(|a| a == "silence");
    let automate = args.iter().any(|a| a == "automate");
    for id in &args {
        if id == "silence" || id == "automate" {
            continue;
        } else if id == "meters" {
            host.enable_analysis(false);
        } else if id == "editor" {
            host.enable_analysis(true);
        } else if id == "all" {
            for (id, v) in livechain::host::all_on() {
                host.set(id, v).unwrap();
            }
        } else if id != "none" {
            host.set(id, 1.0).unwrap();
        }
    }
    host.settle();
    let [mut l, mut r] = livechain::host::seeded_signal(48_000, 3);
    let (l0, r0) = if silence {
        for (cl, cr) in l.chunks_mut(64).zip(r.chunks_mut(64)) {
            host.process(&mut [cl, cr]);
        }
        (vec![0.0; l.len()], vec![0.0; r.len()])
    } else {
        (l.clone(), r.clone())
    };
    let mut rng = 0x1234_5678u32;
    let mut block = 0usize;
    for _ in 0..10 {
        l.copy_from_slice(&l0);
        r.copy_from_slice(&r0);
        for (cl, cr) in l.chunks_mut(64).zip(r.chunks_mut(64)) {
            if automate && block.is_multiple_of(16) {
                let (id, lo, hi) = livechain::host::AUTOMATED[livechain::dsp::xorshift32(&mut rng) as usize % 10];
                let t = livechain::dsp::xorshift32(&mut rng) as f32 / u32::MAX as f32;
                host.set(id, lo + t * (hi - lo)).unwrap();
            }
            block += 1;
            host.process(&mut [cl, cr]);
        }
    }
    println!("{}", l[100] + r[200]);
}
