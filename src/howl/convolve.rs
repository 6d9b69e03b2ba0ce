//! A uniformly partitioned overlap-save convolver: the room's response applied to the speaker
//! signal block by block, its output for a block ready before that block is processed (the
//! response's first partition must be silent: the loop's delay is longer than a block).

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

pub struct Convolver {
    b: usize,
    parts: Vec<Vec<Complex<f32>>>,
    /// The spectra of the last `parts.len()` input windows, newest at `head`.
    hist: Vec<Vec<Complex<f32>>>,
    head: usize,
    prev: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    time: Vec<f32>,
    acc: Vec<Complex<f32>>,
}

impl Convolver {
    /// `ir` in partitions of `b` samples. Panics when its first partition is not silent.
    pub fn new(ir: &[f32], b: usize) -> Self {
        assert!(ir[..b.min(ir.len())].iter().all(|&v| v == 0.0), "the response's first {b} samples must be silent");
        let mut planner = RealFftPlanner::<f32>::new();
        let (fft, ifft) = (planner.plan_fft_forward(2 * b), planner.plan_fft_inverse(2 * b));
        let count = ir.len().div_ceil(b).max(2);
        let parts = (0..count)
            .map(|p| {
                let mut t = vec![0.0f32; 2 * b];
                for (i, v) in t.iter_mut().take(b).enumerate() {
                    *v = ir.get(p * b + i).copied().unwrap_or(0.0);
                }
                let mut s = fft.make_output_vec();
                fft.process(&mut t, &mut s).expect("fft sizes");
                s
            })
            .collect();
        let hist = vec![fft.make_output_vec(); count];
        let acc = fft.make_output_vec();
        Self { b, parts, hist, head: 0, prev: vec![0.0; b], fft, ifft, time: vec![0.0; 2 * b], acc }
    }

    /// Takes the next block of the signal (`b` samples).
    pub fn push(&mut self, x: &[f32]) {
        let b = self.b;
        self.time[..b].copy_from_slice(&self.prev);
        self.time[b..].copy_from_slice(&x[..b]);
        self.prev.copy_from_slice(&x[..b]);
        self.head = (self.head + 1) % self.hist.len();
        let slot = &mut self.hist[self.head];
        self.fft.process(&mut self.time, slot).expect("fft sizes");
    }

    /// The convolution's next block (the one the next `push` will bring in), into `out`.
    pub fn next(&mut self, out: &mut [f32]) {
        let count = self.parts.len();
        self.acc.iter_mut().for_each(|c| *c = Complex::new(0.0, 0.0));
        // Output block j + 1 = Σ_p H_p · X_(j + 1 − p); H_0 is silent, so p starts at 1, whose
        // window X_j is the newest pushed.
        for p in 1..count {
            let x = &self.hist[(self.head + count + 1 - p) % count];
            for ((a, h), v) in self.acc.iter_mut().zip(&self.parts[p]).zip(x) {
                *a += h * v;
            }
        }
        self.ifft.process(&mut self.acc, &mut self.time).expect("fft sizes");
        let scale = 1.0 / (2 * self.b) as f32;
        for (o, v) in out.iter_mut().zip(&self.time[self.b..]) {
            *o = v * scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Block by block, the same as direct convolution.
    #[test]
    fn matches_direct_convolution() {
        let b = 16;
        let mut ir = vec![0.0f32; 100];
        for (i, v) in ir.iter_mut().enumerate().skip(b) {
            *v = ((i * 7919) % 13) as f32 / 13.0 - 0.5;
        }
        let x: Vec<f32> = (0..400).map(|i| ((i * 104_729) % 17) as f32 / 17.0 - 0.5).collect();
        let mut c = Convolver::new(&ir, b);
        let mut got = vec![0.0f32; x.len()];
        for (k, block) in x.chunks(b).enumerate() {
            c.next(&mut got[k * b..(k + 1) * b]);
            c.push(block);
        }
        for n in 0..x.len() {
            let want: f32 = (0..ir.len()).filter(|&i| i <= n).map(|i| ir[i] * x[n - i]).sum();
            assert!((got[n] - want).abs() < 1e-4, "sample {n}: {} vs {want}", got[n]);
        }
    }
}
