//! Threads: parameters written from another thread while the audio thread processes thousands of
//! blocks, and the editor's reads (meters, loudness) racing the audio thread's writes. The writer
//! uses the calls every nice-plug wrapper makes for a host or GUI change (normalised value, then
//! the smoother's new target); doing that while audio runs is harsher than the wrappers
//! themselves (they hand changes to the audio thread while processing), so the chain must stay
//! sound under the worst interleaving. In-process: no bundle needed.

use livechain::host::OfflineHost;
use livechain::params::LivechainParams;
use nice_plug::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

mod common;

#[test]
fn parameters_written_from_another_thread_while_audio_runs() {
    let params = Arc::new(LivechainParams::default());
    let mut host = OfflineHost::with_params(params.clone(), 48_000.0, 2);
    host.enable_analysis(true);
    for (id, v) in livechain::host::all_on() {
        host.set(id, v).unwrap();
    }
    host.settle();
    let ceiling = 10f32.powf(-0.3 / 20.0);
    let bridge = host.bridge.clone();
    let done = AtomicBool::new(false);
    let writes = AtomicUsize::new(0);
    let reads = AtomicUsize::new(0);
    // Everything but the ceiling and the bypass, which the check below relies on.
    let free: Vec<ParamPtr> = params
        .param_map()
        .into_iter()
        .filter(|(id, ..)| !["ceiling_on", "ceiling", "bypass"].contains(&id.as_str()))
        .map(|(_, p, _)| p)
        .collect();
    struct Ptrs(Vec<ParamPtr>);
    // SAFETY: ParamPtr points into `params`, which the Arc keeps alive past the scope; the
    // parameters' values and smoothers are atomics, which is what makes wrappers' cross-thread
    // use sound.
    unsafe impl Send for Ptrs {}
    unsafe impl Sync for Ptrs {}
    let free = Ptrs(free);
    let blocks = 20_000;
    let mut worst = 0.0f32;
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut rng = common::Lcg(11);
            let free = &free;
            while !done.load(Ordering::Relaxed) {
                let p = free.0[rng.range(0, free.0.len() - 1)];
                // SAFETY: see `Ptrs`.
                unsafe {
                    p._internal_set_normalized_value(rng.unit());
                    p._internal_update_smoother(48_000.0, false);
                }
                writes.fetch_add(1, Ordering::Relaxed);
                if writes.load(Ordering::Relaxed).is_multiple_of(64) {
                    std::thread::yield_now();
                }
            }
        });
        s.spawn(|| {
            // What the editor reads every frame.
            while !done.load(Ordering::Relaxed) {
                for ch in 0..2 {
                    let _ = bridge.output_peak.take(ch);
                    let _ = bridge.output_rms.get(ch);
                }
                let _ = bridge.loudness.integrated();
                let _ = bridge.loudness.range();
                reads.fetch_add(1, Ordering::Relaxed);
                std::thread::yield_now();
            }
        });
        // `done` is set however this thread leaves, a failed assertion too: the scope waits for
        // the other two threads, which would otherwise spin for ever and hide the failure.
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = Stop(&done);
        let mut rng = common::Lcg(3);
        for b in 0..blocks {
            let mut l = common::noise(64, 0.3, b as u32 + 1);
            let mut r = common::noise(64, 0.3, b as u32 + 7);
            if b % 100 == 0 {
                l[rng.range(0, 63)] = 1.0;
            }
            host.process(&mut [&mut l, &mut r]);
            for x in l.iter().chain(&r) {
                assert!(x.is_finite() && !x.is_subnormal(), "block {b}: {x}");
                worst = worst.max(x.abs());
            }
        }
    });
    let (w, r) = (writes.load(Ordering::Relaxed), reads.load(Ordering::Relaxed));
    println!(
        "{blocks} blocks of 64 with {w} parameter writes and {r} editor reads from other threads; peak {worst:.4} (ceiling {ceiling:.4})"
    );
    assert!(w > 1000, "the writer barely ran ({w} writes)");
    assert!(worst <= ceiling + 1e-6, "{worst} passed the ceiling {ceiling}");
}
