//! The EQ's cascade of sections over a block with settled coefficients, run as a wavefront so
//! that four sections' worth of work go side by side in SIMD lanes.
//!
//! A cascade is serial twice over: each sample waits for the one before (the filter's state) and
//! each section for the one before it (its input). A wavefront breaks the second chain: at step
//! t, section j works on sample t − j, whose input section j − 1 finished at step t − 1. So every
//! section of a step is independent of the others: lanes hold two consecutive sections of both
//! channels, [section 2p ch 0, ch 1, section 2p + 1 ch 0, ch 1], and the pairs run side by side.
//! The block ends after len + sections − 1 steps; a lane outside its part of the block keeps its
//! state. Each lane does exactly the scalar section's arithmetic, in the same order: the same bits.

use super::design::SvfCoefs;
use crate::dsp::{BLOCK, MAX_CH};
use wide::f32x4;

/// The most sections a cascade has (five bands, two of them shelves of two sections).
pub const MAX_SECTIONS: usize = 8;

/// [a's lanes 2 and 3, b's lanes 0 and 1]: the outputs a pair's two sections take as input.
#[inline(always)]
fn join(a: f32x4, b: f32x4) -> f32x4 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128, _mm_shuffle_ps};
        // SAFETY: f32x4 and __m128 are both four f32 lanes in 16 bytes, any bits valid (f32x4 is
        // bytemuck::Pod); SSE is part of every x86-64 CPU.
        unsafe {
            let (a, b): (__m128, __m128) = (std::mem::transmute::<f32x4, __m128>(a), std::mem::transmute::<f32x4, __m128>(b));
            std::mem::transmute::<__m128, f32x4>(_mm_shuffle_ps::<0b01_00_11_10>(a, b))
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let (a, b) = (a.to_array(), b.to_array());
        f32x4::new([a[2], a[3], b[0], b[1]])
    }
}

/// One pair's coefficients, lane by lane.
#[derive(Clone, Copy)]
struct PairCoefs {
    a11: f32x4,
    a12: f32x4,
    a21: f32x4,
    a22: f32x4,
    b1: f32x4,
    b2: f32x4,
    d: f32x4,
    e1: f32x4,
    e2: f32x4,
}

/// The wavefront's registers: each pair's coefficients, states, section numbers and last outputs.
struct Wave<const P: usize> {
    pc: [PairCoefs; P],
    ic1: [f32x4; P],
    ic2: [f32x4; P],
    index: [f32x4; P],
    out: [f32x4; P],
}

impl<const P: usize> Wave<P> {
    /// Step t: every pair takes its inputs from the step before, so the pairs are independent.
    /// `MASKED`: some lanes lie outside the block (their states must not move).
    #[inline(always)]
    fn step<const MASKED: bool>(&mut self, t: usize, s: usize, len: usize, buf: &mut [[f32; 2 * BLOCK]; MAX_CH], last: usize, base: usize) {
        let zero = f32x4::ZERO;
        let first = if t < len { f32x4::new([0.0, 0.0, buf[0][t], buf[1][t]]) } else { zero };
        let mut next = [zero; P];
        for p in 0..P {
            let x = join(if p == 0 { first } else { self.out[p - 1] }, self.out[p]);
            let c = &self.pc[p];
            let (i1, i2) = (self.ic1[p], self.ic2[p]);
            next[p] = c.d * x + (c.e1 * i1 + c.e2 * i2);
            let (n1, n2) = (c.b1 * x + (c.a11 * i1 + c.a12 * i2), c.b2 * x + (c.a21 * i1 + c.a22 * i2));
            if MASKED {
                let tt = f32x4::splat(t as f32);
                let live = tt.simd_ge(self.index[p]) & tt.simd_lt(self.index[p] + f32x4::splat(len as f32));
                self.ic1[p] = live.bitselect(n1, i1);
                self.ic2[p] = live.bitselect(n2, i2);
            } else {
                self.ic1[p] = n1;
                self.ic2[p] = n2;
            }
        }
        self.out = next;
        if t + 1 >= s {
            let o = self.out[last].to_array();
            let i = t + 1 - s;
            buf[0][i] = o[base];
            buf[1][i] = o[base + 1];
        }
    }
}

/// Runs `coefs.len()` sections in cascade over `buf[ch][..len]` in place (both channels; a mono
/// caller's second channel is silence and its state is left as it was). `state[j][ch]` is
/// section j's [ic1, ic2] on channel ch.
pub fn cascade(coefs: &[SvfCoefs], state: &mut [[[f32; 2]; MAX_CH]], buf: &mut [[f32; 2 * BLOCK]; MAX_CH], len: usize) {
    #[cfg(target_arch = "x86_64")]
    if avx::available() && coefs.len() > 2 {
        // SAFETY: the CPU has AVX (checked once, above).
        unsafe { avx::cascade(coefs, state, buf, len) };
        return;
    }
    cascade_sse(coefs, state, buf, len)
}

/// `cascade` on four lanes (any x86-64, or anything `wide` runs on).
pub fn cascade_sse(coefs: &[SvfCoefs], state: &mut [[[f32; 2]; MAX_CH]], buf: &mut [[f32; 2 * BLOCK]; MAX_CH], len: usize) {
    match coefs.len().min(MAX_SECTIONS).div_ceil(2) {
        0 => {}
        1 => run::<1>(coefs, state, buf, len),
        2 => run::<2>(coefs, state, buf, len),
        3 => run::<3>(coefs, state, buf, len),
        _ => run::<4>(coefs, state, buf, len),
    }
}

/// The wavefront with `P` pairs of sections (the last may hold one section and a pass-through).
#[inline(always)]
fn run<const P: usize>(coefs: &[SvfCoefs], state: &mut [[[f32; 2]; MAX_CH]], buf: &mut [[f32; 2 * BLOCK]; MAX_CH], len: usize) {
    let s = coefs.len().min(2 * P);
    if len == 0 {
        return;
    }
    let zero = f32x4::ZERO;
    let mut pc = [PairCoefs { a11: zero, a12: zero, a21: zero, a22: zero, b1: zero, b2: zero, d: zero, e1: zero, e2: zero }; P];
    let (mut ic1, mut ic2) = ([zero; P], [zero; P]);
    // Each lane's section number, for the masks of the first and last steps.
    let mut index = [zero; P];
    for p in 0..P {
        let lane = |f: &dyn Fn(usize) -> f32| f32x4::new([f(2 * p), f(2 * p), f(2 * p + 1), f(2 * p + 1)]);
        let c = |j: usize| if j < s { coefs[j] } else { SvfCoefs::IDENTITY };
        pc[p] = PairCoefs {
            a11: lane(&|j| c(j).a11),
            a12: lane(&|j| c(j).a12),
            a21: lane(&|j| c(j).a21),
            a22: lane(&|j| c(j).a22),
            b1: lane(&|j| c(j).b1),
            b2: lane(&|j| c(j).b2),
            d: lane(&|j| c(j).d),
            e1: lane(&|j| c(j).e1),
            e2: lane(&|j| c(j).e2),
        };
        let st = |j: usize, ch: usize, v: usize| if j < s { state[j][ch][v] } else { 0.0 };
        let j = (2 * p, 2 * p + 1);
        ic1[p] = f32x4::new([st(j.0, 0, 0), st(j.0, 1, 0), st(j.1, 0, 0), st(j.1, 1, 0)]);
        ic2[p] = f32x4::new([st(j.0, 0, 1), st(j.0, 1, 1), st(j.1, 0, 1), st(j.1, 1, 1)]);
        index[p] = f32x4::new([j.0 as f32, j.0 as f32, j.1 as f32, j.1 as f32]);
    }
    let (last, base) = ((s - 1) / 2, if (s - 1) % 2 == 1 { 2 } else { 0 });
    let mut w = Wave { pc, ic1, ic2, index, out: [zero; P] };
    // Lanes outside the block only in the first and last sections − 1 steps.
    let ramp_in = (s - 1).min(len);
    for t in 0..ramp_in {
        w.step::<true>(t, s, len, buf, last, base);
    }
    for t in ramp_in..len {
        w.step::<false>(t, s, len, buf, last, base);
    }
    for t in len..len + s - 1 {
        w.step::<true>(t, s, len, buf, last, base);
    }
    let Wave { ic1, ic2, .. } = w;
    for p in 0..P {
        let (a, b) = (ic1[p].to_array(), ic2[p].to_array());
        for (half, j) in [2 * p, 2 * p + 1].into_iter().enumerate() {
            if j < s {
                for ch in 0..MAX_CH {
                    state[j][ch] = [a[2 * half + ch], b[2 * half + ch]];
                }
            }
        }
    }
}

/// The wavefront on eight lanes where the CPU has AVX (checked at run time; the plugin is built
/// for the x86-64 baseline): lanes hold four consecutive sections of both channels, [section 4q
/// ch 0, ch 1, 4q + 1 ch 0, ch 1, …], so a step is two 8-lane quads instead of four 4-lane pairs.
/// Each lane does the scalar section's arithmetic in the same order (separate multiplies and
/// adds, no fused multiply-add): the same bits as `cascade_sse` (tested).
#[cfg(target_arch = "x86_64")]
pub mod avx {
    use super::*;
    use std::arch::x86_64::*;
    use std::sync::atomic::{AtomicU8, Ordering};

    /// 0: not checked yet, 1: no AVX, 2: AVX.
    static AVX: AtomicU8 = AtomicU8::new(0);

    /// Whether the CPU has AVX (asked once; after that one relaxed load).
    #[inline]
    pub fn available() -> bool {
        match AVX.load(Ordering::Relaxed) {
            0 => {
                let has = std::arch::is_x86_feature_detected!("avx");
                AVX.store(if has { 2 } else { 1 }, Ordering::Relaxed);
                has
            }
            v => v == 2,
        }
    }

    /// One quad's coefficients, lane by lane.
    #[derive(Clone, Copy)]
    struct QuadCoefs {
        a11: __m256,
        a12: __m256,
        a21: __m256,
        a22: __m256,
        b1: __m256,
        b2: __m256,
        d: __m256,
        e1: __m256,
        e2: __m256,
    }

    /// `cascade` with `coefs.len()` ≤ `MAX_SECTIONS` sections on AVX.
    ///
    /// # Safety
    /// The CPU must have AVX.
    #[target_feature(enable = "avx")]
    pub unsafe fn cascade(coefs: &[SvfCoefs], state: &mut [[[f32; 2]; MAX_CH]], buf: &mut [[f32; 2 * BLOCK]; MAX_CH], len: usize) {
        match coefs.len().min(MAX_SECTIONS).div_ceil(4) {
            0 => {}
            1 => run::<1>(coefs, state, buf, len),
            _ => run::<2>(coefs, state, buf, len),
        }
    }

    /// [the previous quad's lanes 6 and 7, this quad's lanes 0 to 5]: each section's input is the
    /// output of the section before it.
    #[inline(always)]
    unsafe fn join(prev: __m256, cur: __m256) -> __m256 {
        let t = _mm256_permute2f128_ps::<0x21>(prev, cur);
        _mm256_shuffle_ps::<0b01_00_11_10>(t, cur)
    }

    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        _mm256_mul_ps(a, b)
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        _mm256_add_ps(a, b)
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn step<const Q: usize, const MASKED: bool>(
        qc: &[QuadCoefs; Q],
        ic1: &mut [__m256; Q],
        ic2: &mut [__m256; Q],
        index: &[__m256; Q],
        out: &mut [__m256; Q],
        t: usize,
        s: usize,
        len: usize,
        buf: &mut [[f32; 2 * BLOCK]; MAX_CH],
        last: usize,
        lane: usize,
    ) {
        let zero = _mm256_setzero_ps();
        let first = if t < len { _mm256_setr_ps(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, buf[0][t], buf[1][t]) } else { zero };
        let mut next = [zero; Q];
        for q in 0..Q {
            let x = join(if q == 0 { first } else { out[q - 1] }, out[q]);
            let c = &qc[q];
            let (i1, i2) = (ic1[q], ic2[q]);
            next[q] = add(mul(c.d, x), add(mul(c.e1, i1), mul(c.e2, i2)));
            let n1 = add(mul(c.b1, x), add(mul(c.a11, i1), mul(c.a12, i2)));
            let n2 = add(mul(c.b2, x), add(mul(c.a21, i1), mul(c.a22, i2)));
            if MASKED {
                let tt = _mm256_set1_ps(t as f32);
                let live = _mm256_and_ps(
                    _mm256_cmp_ps::<_CMP_GE_OQ>(tt, index[q]),
                    _mm256_cmp_ps::<_CMP_LT_OQ>(tt, add(index[q], _mm256_set1_ps(len as f32))),
                );
                ic1[q] = _mm256_blendv_ps(i1, n1, live);
                ic2[q] = _mm256_blendv_ps(i2, n2, live);
            } else {
                ic1[q] = n1;
                ic2[q] = n2;
            }
        }
        *out = next;
        if t + 1 >= s {
            let mut o = [0.0f32; 8];
            _mm256_storeu_ps(o.as_mut_ptr(), out[last]);
            let i = t + 1 - s;
            buf[0][i] = o[lane];
            buf[1][i] = o[lane + 1];
        }
    }

    #[inline(always)]
    unsafe fn run<const Q: usize>(coefs: &[SvfCoefs], state: &mut [[[f32; 2]; MAX_CH]], buf: &mut [[f32; 2 * BLOCK]; MAX_CH], len: usize) {
        let s = coefs.len().min(4 * Q);
        if len == 0 {
            return;
        }
        let zero = _mm256_setzero_ps();
        let c = |j: usize| if j < s { coefs[j] } else { SvfCoefs::IDENTITY };
        // Lane l of quad q: section 4q + l / 2, channel l % 2.
        let lanes = |q: usize, f: &dyn Fn(usize, usize) -> f32| {
            let v: [f32; 8] = std::array::from_fn(|l| f(4 * q + l / 2, l % 2));
            _mm256_loadu_ps(v.as_ptr())
        };
        let qc: [QuadCoefs; Q] = std::array::from_fn(|q| QuadCoefs {
            a11: lanes(q, &|j, _| c(j).a11),
            a12: lanes(q, &|j, _| c(j).a12),
            a21: lanes(q, &|j, _| c(j).a21),
            a22: lanes(q, &|j, _| c(j).a22),
            b1: lanes(q, &|j, _| c(j).b1),
            b2: lanes(q, &|j, _| c(j).b2),
            d: lanes(q, &|j, _| c(j).d),
            e1: lanes(q, &|j, _| c(j).e1),
            e2: lanes(q, &|j, _| c(j).e2),
        });
        let st = |j: usize, ch: usize, v: usize| if j < s { state[j][ch][v] } else { 0.0 };
        let mut ic1: [__m256; Q] = std::array::from_fn(|q| lanes(q, &|j, ch| st(j, ch, 0)));
        let mut ic2: [__m256; Q] = std::array::from_fn(|q| lanes(q, &|j, ch| st(j, ch, 1)));
        let index: [__m256; Q] = std::array::from_fn(|q| lanes(q, &|j, _| j as f32));
        let (last, lane) = ((s - 1) / 4, 2 * ((s - 1) % 4));
        let mut out = [zero; Q];
        let ramp_in = (s - 1).min(len);
        for t in 0..ramp_in {
            step::<Q, true>(&qc, &mut ic1, &mut ic2, &index, &mut out, t, s, len, buf, last, lane);
        }
        for t in ramp_in..len {
            step::<Q, false>(&qc, &mut ic1, &mut ic2, &index, &mut out, t, s, len, buf, last, lane);
        }
        for t in len..len + s - 1 {
            step::<Q, true>(&qc, &mut ic1, &mut ic2, &index, &mut out, t, s, len, buf, last, lane);
        }
        for q in 0..Q {
            let (mut a, mut b) = ([0.0f32; 8], [0.0f32; 8]);
            _mm256_storeu_ps(a.as_mut_ptr(), ic1[q]);
            _mm256_storeu_ps(b.as_mut_ptr(), ic2[q]);
            for l in 0..4 {
                let j = 4 * q + l;
                if j < s {
                    for ch in 0..MAX_CH {
                        state[j][ch] = [a[2 * l + ch], b[2 * l + ch]];
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::eq::design::{design, Band, Kind};

    /// The AVX wavefront gives the four-lane one's bits: every section count, block lengths from
    /// 0 to the longest, states carried from block to block, real band designs.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx_wavefront_gives_the_same_bits_as_the_sse_one() {
        assert!(avx::available(), "this machine's CPU has AVX (the test would prove nothing without it)");
        let mut seed = 5u32;
        let mut rnd = || crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32;
        for sections in 1..=MAX_SECTIONS {
            let coefs: Vec<SvfCoefs> = (0..sections)
                .map(|j| {
                    let kind = [Kind::Bell, Kind::LowShelf, Kind::HighShelf][j % 3];
                    let band = Band {
                        kind,
                        freq: 30.0 * 600f64.powf(rnd() as f64),
                        gain_db: 48.0 * rnd() as f64 - 24.0,
                        q: 0.3 + 5.0 * rnd() as f64,
                    };
                    SvfCoefs::from_biquad(&design(&band, 96_000.0)[j % 2])
                })
                .collect();
            let mut sa = vec![[[0.0f32; 2]; MAX_CH]; sections];
            let mut sb = sa.clone();
            for len in [0usize, 1, 2, 3, 5, 7, 8, 9, 64, 100, 2 * BLOCK] {
                let mut a = [[0.0f32; 2 * BLOCK]; MAX_CH];
                for ch in a.iter_mut() {
                    for x in ch[..len].iter_mut() {
                        *x = rnd() - 0.5;
                    }
                }
                let mut b = a;
                cascade_sse(&coefs, &mut sa, &mut a, len);
                // SAFETY: checked above that the CPU has AVX.
                unsafe { avx::cascade(&coefs, &mut sb, &mut b, len) };
                for ch in 0..MAX_CH {
                    for i in 0..len {
                        assert_eq!(a[ch][i].to_bits(), b[ch][i].to_bits(), "{sections} sections, len {len}, ch {ch}, sample {i}");
                    }
                }
                for j in 0..sections {
                    for ch in 0..MAX_CH {
                        assert_eq!(sa[j][ch].map(f32::to_bits), sb[j][ch].map(f32::to_bits), "{sections} sections, state {j}");
                    }
                }
            }
            assert!(sa.iter().flatten().flatten().any(|&v| v != 0.0), "the states moved");
        }
    }
}
