//! Criterion benches of the whole chain: one second of stereo 48 kHz audio per iteration, so the
//! time per iteration reads directly as the fraction of one core the chain needs.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use livechain::host::OfflineHost;

const SR: f32 = 48_000.0;

fn signal(frames: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..frames)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32 * 2.0 - 1.0) * 0.3
        })
        .collect()
}

fn chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("chain");
    group.throughput(Throughput::Elements(SR as u64));
    for block in [32usize, 64, 128, 256, 1024] {
        let mut host = OfflineHost::new(SR, 2);
        host.set("in_gain", 3.0).unwrap();
        host.set("mix", 80.0).unwrap();
        let l = signal(SR as usize, 1);
        let r = signal(SR as usize, 2);
        let (mut bl, mut br) = (vec![0.0f32; block], vec![0.0f32; block]);
        group.bench_with_input(BenchmarkId::new("block", block), &block, |b, &block| {
            b.iter(|| {
                for (cl, cr) in l.chunks(block).zip(r.chunks(block)) {
                    bl[..cl.len()].copy_from_slice(cl);
                    br[..cr.len()].copy_from_slice(cr);
                    let mut slices: [&mut [f32]; 2] = [&mut bl[..cl.len()], &mut br[..cr.len()]];
                    host.process(&mut slices);
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, chain);
criterion_main!(benches);
