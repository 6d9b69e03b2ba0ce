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
