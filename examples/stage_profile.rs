//! A fixed workload for profiling under callgrind, whose instruction counts repeat exactly on a
//! noisy machine: 10 s of the seeded stereo signal through the chain in 64-frame blocks with the
//! stages named on the command line switched on (`all` for every stage, `none` for the bare
//! chain; `meters` adds the output meters). Compare builds with, for example:
//!
//! `cargo build --release --example stage_profile && valgrind --tool=callgrind
//!  target/release/examples/stage_profile rev_on`
//!
//! (the cost of a stage is its count minus the count for `none`). `silence` runs one second of the
//! signal, then ten seconds of silence (the decaying tails: the denormal case).

use livechain::host::OfflineHost;
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut host = OfflineHost::new(48_000.0, 2);
    let silence = args.iter().any(|a| a == "silence");
    for id in &args {
        if id == "silence" {
            continue;
        } else if id == "meters" {
            host.enable_analysis(false);
        } else if id == "all" {
            for (id, v) in livechain::host::ALL_ON { host.set(id, *v).unwrap(); }
        } else if id != "none" {
            host.set(id, 1.0).unwrap();
        }
    }
    host.settle();
    let [mut l, mut r] = livechain::host::seeded_signal(48_000, 3);
    let (l0, r0) = if silence {
        for (cl, cr) in l.chunks_mut(64).zip(r.chunks_mut(64)) { host.process(&mut [cl, cr]); }
        (vec![0.0; l.len()], vec![0.0; r.len()])
    } else {
        (l.clone(), r.clone())
    };
    for _ in 0..10 {
        l.copy_from_slice(&l0); r.copy_from_slice(&r0);
        for (cl, cr) in l.chunks_mut(64).zip(r.chunks_mut(64)) { host.process(&mut [cl, cr]); }
    }
    println!("{}", l[100] + r[200]);
}
