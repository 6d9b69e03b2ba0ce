//! An algorithmic reverb: pre-delay, early reflections, input diffusion and an 8-line feedback
//! delay network with a Hadamard (unitary) feedback matrix.
//!
//! Each line's loop gain is 10^(−3·len/(T60·fs)), so every mode decays by 60 dB in the set time
//! whatever the line's length; damping is a one-pole low-pass per line with unity gain at DC, so
//! high frequencies die sooner while the low-frequency decay stays on the setting. The lines are
//! read at slowly modulated fractional positions to smear metallic resonances.

use super::{CONTROL, MAX_CH, RAMP};
use wide::f32x8;

pub const LINES: usize = 8;
/// Line lengths at size 1.0, ms: spread and mutually incommensurate so modes don't pile up.
const LINE_MS: [f32; LINES] = [31.71, 37.11, 40.93, 45.27, 49.81, 53.57, 59.33, 66.17];
/// Size 0..1 maps to this scale of the line lengths.
const SIZE_MIN: f32 = 0.35;
const SIZE_MAX: f32 = 1.65;
/// Peak modulation depth at 100 %, ms, and LFO rates (Hz) per line.
const MOD_DEPTH_MS: f32 = 0.6;
const MOD_HZ: [f32; LINES] = [0.31, 0.43, 0.37, 0.53, 0.47, 0.29, 0.61, 0.41];
pub const MAX_PREDELAY_MS: f32 = 200.0;
/// Early reflections: tap times (ms at size 1.0), gains, and which side they land on.
const ER_MS: [f32; 8] = [7.3, 11.9, 16.7, 21.1, 27.8, 33.4, 41.5, 49.2];
const ER_GAIN: [f32; 8] = [0.84, 0.76, 0.69, 0.61, 0.55, 0.48, 0.42, 0.36];
const ER_LEFT: [bool; 8] = [true, false, true, false, false, true, false, true];
/// Input diffusers (Schroeder allpasses), ms, per channel.
const DIFFUSER_MS: [[f32; 2]; MAX_CH] = [[4.71, 3.59], [4.23, 3.11]];
const DIFFUSION: f32 = 0.6;

#[derive(Debug, Clone, Copy)]
pub struct ReverbSettings {
    pub predelay_ms: f32,
    /// 0..1
    pub size: f32,
    pub decay_s: f32,
    /// 0..1
    pub damping: f32,
    /// 0..1
    pub modulation: f32,
    /// 0 (mono) .. 1 (full stereo)
    pub width: f32,
    /// Early reflections level, 0..1
    pub early: f32,
    /// Wet level added to the signal, 0..1
    pub mix: f32,
}

impl Default for ReverbSettings {
    fn default() -> Self {
        Self { predelay_ms: 10.0, size: 0.5, decay_s: 1.2, damping: 0.4, modulation: 0.2, width: 1.0, early: 0.3, mix: 0.2 }
    }
}

/// A ring buffer of power-of-two length (never empty: the unchecked reads rely on it).
#[derive(Debug, Clone)]
struct Ring {
    buf: Vec<f32>,
    mask: usize,
    write: usize,
}

impl Default for Ring {
    fn default() -> Self {
        Self::new(0)
    }
}

impl Ring {
    fn new(min_len: usize) -> Self {
        let len = (min_len + 4).next_power_of_two();
        Self { buf: vec![0.0; len], mask: len - 1, write: 0 }
    }
    fn reset(&mut self) {
        self.buf.fill(0.0);
        self.write = 0;
    }
    /// The sample written `d` pushes ago (d ≥ 1).
    #[inline]
    fn tap(&self, d: usize) -> f32 {
        // SAFETY: the index is masked to the buffer's power-of-two length (every read of the
        // eight lines, taps and diffusers goes through here, once per sample).
        unsafe { *self.buf.get_unchecked(self.write.wrapping_sub(d) & self.mask) }
    }
    /// Copies `out.len()` consecutive samples, oldest first: `out[i]` is the sample written
    /// `age − i` pushes ago (`out.len()` ≤ age ≤ the ring's length).
    #[inline]
    fn read_run(&self, age: usize, out: &mut [f32]) {
        let start = self.write.wrapping_sub(age) & self.mask;
        let first = out.len().min(self.buf.len() - start);
        let (head, tail) = out.split_at_mut(first);
        head.copy_from_slice(&self.buf[start..start + first]);
        tail.copy_from_slice(&self.buf[..tail.len()]);
    }
    /// Pushes `xs` in order (no more than the ring's length).
    #[inline]
    fn push_run(&mut self, xs: &[f32]) {
        let first = xs.len().min(self.buf.len() - self.write);
        let (head, tail) = xs.split_at(first);
        self.buf[self.write..self.write + first].copy_from_slice(head);
        self.buf[..tail.len()].copy_from_slice(tail);
        self.write = (self.write + xs.len()) & self.mask;
    }
    fn has_subnormal(&self) -> bool {
        self.buf.iter().any(|x| x.is_subnormal())
    }
}

pub use super::BLOCK;

/// A run's working arrays, kept with the reverb rather than on the stack: every element a run
/// reads is written first in the same run, so nothing needs clearing between runs.
#[derive(Debug, Clone)]
struct Scratch {
    pre: [usize; BLOCK],
    early_on: [bool; BLOCK],
    depth: [f32; BLOCK],
    damp: [f32; BLOCK],
    width: [f32; BLOCK],
    mix: [f32; BLOCK],
    input: [[f32; BLOCK]; MAX_CH],
    early: [[f32; BLOCK]; MAX_CH],
    x: [f32; BLOCK],
    v: [f32; BLOCK],
    /// The FDN's left and right outputs, before width and mix.
    wet: [[f32; BLOCK]; MAX_CH],
    written: [[f32; LINES]; BLOCK],
    /// While size or decay glide: each sample's line lengths, gains and early-reflection offsets.
    glide: Box<Glide>,
}

#[derive(Debug, Clone)]
struct Glide {
    lengths: [[f32; LINES]; BLOCK],
    gains: [[f32; LINES]; BLOCK],
    er: [[usize; ER_MS.len()]; BLOCK],
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            pre: [0; BLOCK],
            early_on: [false; BLOCK],
            depth: [0.0; BLOCK],
            damp: [0.0; BLOCK],
            width: [0.0; BLOCK],
            mix: [0.0; BLOCK],
            input: [[0.0; BLOCK]; MAX_CH],
            early: [[0.0; BLOCK]; MAX_CH],
            x: [0.0; BLOCK],
            v: [0.0; BLOCK],
            wet: [[0.0; BLOCK]; MAX_CH],
            written: [[0.0; LINES]; BLOCK],
            glide: Box::new(Glide { lengths: [[0.0; LINES]; BLOCK], gains: [[0.0; LINES]; BLOCK], er: [[0; ER_MS.len()]; BLOCK] }),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Reverb {
    sample_rate: f32,
    predelay: [Ring; MAX_CH],
    diffusers: [[Ring; 2]; MAX_CH],
    lines: Lines,
    damp_state: [f32; LINES],
    lfo: Lfo,
    /// Cached per-line gains for (size, decay).
    cache: (f32, f32),
    gains: [f32; LINES],
    lengths: [f32; LINES],
    /// Early reflections' offsets behind the pre-delay, in samples, for the cached size.
    er_offsets: [usize; ER_MS.len()],
    /// The input diffusers' delays in samples (fixed for a sample rate).
    diffuser_delays: [[usize; 2]; MAX_CH],
    /// The most samples a run can hold: the shortest diffuser delay (a run reads only what was
    /// written before it) and, for the cached size, the shortest line's delay − 1 (`fdn_run`).
    diffuser_run: usize,
    fdn_run: usize,
    scratch: Box<Scratch>,
}

/// The eight lines' modulation: sines at `MOD_HZ`, each starting at its own phase, computed once
/// per control period and drawn as a straight line between (the LFOs run below 1 Hz: over a
/// period the line departs from the sine by under 1e-5 at 8 kHz).
#[derive(Debug, Clone, Default)]
struct Lfo {
    /// The phases (0..1) at the end of the current period, and their advance per period (f64:
    /// in f32 the sum of ten thousand small advances drifts audibly far from the frequency).
    phase: [f64; LINES],
    inc: [f64; LINES],
    /// The current period's line: its start, its end (the sine at `phase`), its step per sample.
    from: [f32; LINES],
    to: [f32; LINES],
    step: [f32; LINES],
    /// Samples of the current period already given.
    filled: usize,
}

impl Lfo {
    fn reset(&mut self) {
        for (i, p) in self.phase.iter_mut().enumerate() {
            *p = i as f64 / LINES as f64;
        }
        // The period before the first ends at the starting phases.
        self.to = fast_sin8(f32x8::new(self.phase.map(|p| p as f32))).to_array();
        self.from = self.to;
        self.step = [0.0; LINES];
        self.filled = CONTROL;
    }

    /// The eight LFO values (−1..1) for the next sample.
    #[inline(always)]
    fn next(&mut self) -> f32x8 {
        if self.filled == CONTROL {
            // A new period: the line from where the last one ended to the sine at this one's end.
            for (p, &inc) in self.phase.iter_mut().zip(&self.inc) {
                *p += inc;
                if *p >= 1.0 {
                    *p -= 1.0;
                }
            }
            let to = fast_sin8(f32x8::new(self.phase.map(|p| p as f32)));
            self.from = self.to;
            self.step = ((to - f32x8::new(self.from)) * f32x8::splat(1.0 / CONTROL as f32)).to_array();
            self.to = to.to_array();
            self.filled = 0;
        }
        let k = self.filled;
        self.filled += 1;
        f32x8::new(self.from) + f32x8::new(self.step) * f32x8::splat(RAMP[k])
    }
}

/// The eight FDN lines in one allocation, line after line, all the same power-of-two length and
/// written at one shared index: a push is eight stores at one offset, and every per-line step
/// (LFO, interpolation, damping, matrix, gains) runs over `[f32; LINES]` arrays the compiler
/// turns into SIMD. Each line is followed by a copy of its first `GUARD` samples, so the four
/// samples an interpolated read needs are always four neighbours in memory, even across the
/// ring's wrap: one short copy per line instead of four masked reads.
#[derive(Debug, Clone, Default)]
struct Lines {
    buf: Vec<f32>,
    len: usize,
    /// Distance from one line's start to the next: `len` plus the guard (and padding).
    stride: usize,
    mask: usize,
    write: usize,
}

/// Samples copied past each line's end (an interpolated read spans four).
const GUARD: usize = 3;

impl Lines {
    fn new(min_len: usize) -> Self {
        let len = (min_len + 4).next_power_of_two();
        let stride = len + 4;
        Self { buf: vec![0.0; stride * LINES], len, stride, mask: len - 1, write: 0 }
    }
    fn reset(&mut self) {
        self.buf.fill(0.0);
        self.write = 0;
    }
    /// The longest fractional delay `taps` may be asked for.
    fn max_delay(&self) -> f32 {
        (self.len - 4) as f32
    }
    /// The read side of the lines for a run (their pushes wait until the run's reads are done).
    #[inline(always)]
    fn gather(&self) -> Gather<'_> {
        Gather { buf: &self.buf, write: self.write, mask: self.mask, stride: self.stride }
    }
    #[inline]
    fn push(&mut self, v: &[f32; LINES]) {
        for (i, &x) in v.iter().enumerate() {
            // SAFETY: `write` is masked, so line i's slot is inside the buffer.
            unsafe { *self.buf.get_unchecked_mut(i * self.stride + self.write) = x };
        }
        if self.write < GUARD {
            for (i, &x) in v.iter().enumerate() {
                // SAFETY: len + write < len + GUARD < stride: the guard after line i.
                unsafe { *self.buf.get_unchecked_mut(i * self.stride + self.len + self.write) = x };
            }
        }
        self.write = (self.write + 1) & self.mask;
    }
    /// `push` for each frame of a run, in order. On x86-64, four frames at a time where none of
    /// their writes wraps or needs the guard: each half of the four frames is transposed (4 × 4,
    /// SSE) so that each line gets its four new samples in one store. Only data moves.
    #[inline]
    fn push_run(&mut self, frames: &[[f32; LINES]]) {
        let mut k = 0;
        while k < frames.len() {
            #[cfg(target_arch = "x86_64")]
            if k + 4 <= frames.len() && self.write >= GUARD && self.write + 4 <= self.len {
                use std::arch::x86_64::*;
                // SAFETY: SSE is part of the x86-64 baseline. The loads read frames k..k + 4
                // (eight floats each, contiguous, inside the slice). Each store writes line
                // j's samples write..write + 4, inside the line since write + 4 ≤ len.
                unsafe {
                    let f = frames.as_ptr().add(k).cast::<f32>();
                    let (buf, stride, write) = (self.buf.as_mut_ptr(), self.stride, self.write);
                    for half in 0..2 {
                        let row = |r: usize| _mm_loadu_ps(f.add(r * LINES + 4 * half));
                        let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
                        let t0 = _mm_unpacklo_ps(r0, r1);
                        let t1 = _mm_unpacklo_ps(r2, r3);
                        let t2 = _mm_unpackhi_ps(r0, r1);
                        let t3 = _mm_unpackhi_ps(r2, r3);
                        let at = |j: usize| buf.add((4 * half + j) * stride + write);
                        _mm_storeu_ps(at(0), _mm_movelh_ps(t0, t1));
                        _mm_storeu_ps(at(1), _mm_movehl_ps(t1, t0));
                        _mm_storeu_ps(at(2), _mm_movelh_ps(t2, t3));
                        _mm_storeu_ps(at(3), _mm_movehl_ps(t3, t2));
                    }
                }
                self.write = (self.write + 4) & self.mask;
                k += 4;
                continue;
            }
            self.push(&frames[k]);
            k += 1;
        }
    }
    fn has_subnormal(&self) -> bool {
        self.buf.iter().any(|x| x.is_subnormal())
    }
}

/// What a run's reads need of the lines, copied out once per run: as locals they stay in
/// registers through the run's loop instead of being reloaded for every sample.
#[derive(Clone, Copy)]
struct Gather<'a> {
    buf: &'a [f32],
    write: usize,
    mask: usize,
    stride: usize,
}

impl Gather<'_> {
    /// The four samples around `d` pushes ago on every line (4 ≤ d ≤ `max_delay`, finite) and
    /// the fractions, as they will be `at` pushes from now (the run's pushes come after its
    /// reads; at < d − 1 keeps every read on samples already written).
    #[inline]
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    fn taps_scalar(&self, d: &[f32; LINES], at: usize) -> ([[f32; LINES]; 4], [f32; LINES]) {
        let mut x = [[0.0f32; LINES]; 4];
        let mut t = [0.0f32; LINES];
        // d is in [4, len − 4] (`tick` clamps it), so the truncation is floor, fits an i32, and
        // the unchecked conversion is a plain SIMD cvttps2dq rather than eight saturating
        // float-to-usize sequences.
        let mut di = [0i32; LINES];
        for i in 0..LINES {
            // SAFETY: finite and in [4, len − 4], far inside i32.
            di[i] = unsafe { d[i].to_int_unchecked::<i32>() };
            t[i] = d[i] - di[i] as f32;
        }
        for i in 0..LINES {
            // The samples di + 2, di + 1, di and di − 1 pushes ago, oldest first, start here.
            let start = i * self.stride + ((self.write + at).wrapping_sub(di[i] as usize + 2) & self.mask);
            // SAFETY: `start` is a line's start plus a masked offset (< len), and each line is
            // followed by GUARD + 1 more samples inside the buffer.
            let q = unsafe { self.buf.get_unchecked(start..start + 4) };
            x[0][i] = q[3];
            x[1][i] = q[2];
            x[2][i] = q[1];
            x[3][i] = q[0];
        }
        (x, t)
    }
    #[cfg(not(target_arch = "x86_64"))]
    #[inline]
    fn taps(&self, d: &[f32; LINES], at: usize) -> ([[f32; LINES]; 4], [f32; LINES]) {
        self.taps_scalar(d, at)
    }

    /// `taps_scalar` on SSE (baseline on x86-64): the same truncation, fractions and offsets four
    /// lines at a time, and each line's four neighbours, loaded as one vector, turned into the
    /// four "same age on every line" vectors by a 4 × 4 transpose. Only data moves differently:
    /// the values are the same bits.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn taps(&self, d: &[f32; LINES], at: usize) -> ([[f32; LINES]; 4], [f32; LINES]) {
        use std::arch::x86_64::*;
        let mut x = [[0.0f32; LINES]; 4];
        let mut t = [0.0f32; LINES];
        let mut offsets = [0i32; LINES];
        // SAFETY: SSE2 is part of the x86-64 baseline. The loads and stores cover exactly the
        // eight-element arrays (unaligned forms). d is in [4, len − 4] (`run` clamps it), so the
        // truncation is floor and fits an i32; write + at − 2 − di, masked, is the same offset the
        // scalar form's wrapping usize arithmetic gives (the mask keeps only low bits, and the
        // buffer is far smaller than 2^31); each offset is a line's start plus a masked offset,
        // and each line is followed by GUARD + 1 more samples, so every 4-sample load is inside
        // the buffer.
        unsafe {
            let base = _mm_set1_epi32((self.write + at) as i32 - 2);
            let mask = _mm_set1_epi32(self.mask as i32);
            let stride = self.stride as i32;
            for half in 0..2 {
                let dv = _mm_loadu_ps(d.as_ptr().add(4 * half));
                let di = _mm_cvttps_epi32(dv);
                _mm_storeu_ps(t.as_mut_ptr().add(4 * half), _mm_sub_ps(dv, _mm_cvtepi32_ps(di)));
                let line_start = _mm_setr_epi32(0, stride, 2 * stride, 3 * stride);
                let line_start = _mm_add_epi32(line_start, _mm_set1_epi32(4 * half as i32 * stride));
                let off = _mm_add_epi32(_mm_and_si128(_mm_sub_epi32(base, di), mask), line_start);
                _mm_storeu_si128(offsets.as_mut_ptr().add(4 * half).cast(), off);
                // Row r: line 4·half + r's samples di + 2, di + 1, di, di − 1 pushes ago.
                let row = |r: usize| _mm_loadu_ps(self.buf.as_ptr().add(offsets[4 * half + r] as usize));
                let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
                let t0 = _mm_unpacklo_ps(r0, r1);
                let t1 = _mm_unpacklo_ps(r2, r3);
                let t2 = _mm_unpackhi_ps(r0, r1);
                let t3 = _mm_unpackhi_ps(r2, r3);
                // Column c: age di + 2 − c on the four lines; x[3 − c] holds it.
                _mm_storeu_ps(x[3].as_mut_ptr().add(4 * half), _mm_movelh_ps(t0, t1));
                _mm_storeu_ps(x[2].as_mut_ptr().add(4 * half), _mm_movehl_ps(t1, t0));
                _mm_storeu_ps(x[1].as_mut_ptr().add(4 * half), _mm_movelh_ps(t2, t3));
                _mm_storeu_ps(x[0].as_mut_ptr().add(4 * half), _mm_movehl_ps(t3, t2));
            }
        }
        (x, t)
    }
}

/// `hadamard8` on SSE registers (baseline on x86-64): each butterfly stage is a pair of shuffles,
/// an add and a subtract over four lanes, every output the same sum or difference of the same two
/// values as in the scalar form, so the result is bit-for-bit the same.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn hadamard8_simd(v: &mut [f32; LINES]) {
    use std::arch::x86_64::*;
    // SAFETY: SSE is part of the x86-64 baseline; the loads and stores cover exactly `v`'s eight
    // floats (unaligned forms).
    unsafe {
        // h = 1, within each half: [x0 + x1, x0 − x1, x2 + x3, x2 − x3].
        let h1 = |x: __m128| {
            let even = _mm_shuffle_ps::<0b10_00_10_00>(x, x);
            let odd = _mm_shuffle_ps::<0b11_01_11_01>(x, x);
            _mm_unpacklo_ps(_mm_add_ps(even, odd), _mm_sub_ps(even, odd))
        };
        // h = 2, within each half: [x0 + x2, x1 + x3, x0 − x2, x1 − x3].
        let h2 = |x: __m128| {
            let low = _mm_movelh_ps(x, x);
            let high = _mm_movehl_ps(x, x);
            _mm_movelh_ps(_mm_add_ps(low, high), _mm_sub_ps(low, high))
        };
        let lo = h2(h1(_mm_loadu_ps(v.as_ptr())));
        let hi = h2(h1(_mm_loadu_ps(v.as_ptr().add(4))));
        // h = 4, across the halves, then the unitary scale.
        let scale = _mm_set1_ps(1.0 / (LINES as f32).sqrt());
        _mm_storeu_ps(v.as_mut_ptr(), _mm_mul_ps(_mm_add_ps(lo, hi), scale));
        _mm_storeu_ps(v.as_mut_ptr().add(4), _mm_mul_ps(_mm_sub_ps(lo, hi), scale));
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn hadamard8_simd(v: &mut [f32; LINES]) {
    hadamard8(v)
}

/// In-place fast Walsh–Hadamard transform of 8 values, scaled to be unitary.
#[inline]
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn hadamard8(v: &mut [f32; LINES]) {
    let mut h = 1;
    while h < LINES {
        let mut i = 0;
        while i < LINES {
            for j in i..i + h {
                let (a, b) = (v[j], v[j + h]);
                v[j] = a + b;
                v[j + h] = a - b;
            }
            i += 2 * h;
        }
        h *= 2;
    }
    let s = 1.0 / (LINES as f32).sqrt();
    for x in v.iter_mut() {
        *x *= s;
    }
}

impl Reverb {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        let ms = |m: f32| (m * 0.001 * sample_rate).ceil() as usize;
        for ch in 0..MAX_CH {
            // (+ BLOCK: a run reads its first sample's taps after pushing the whole run.)
            self.predelay[ch] = Ring::new(ms(MAX_PREDELAY_MS + ER_MS[7] * SIZE_MAX) + 4 + BLOCK);
            for (k, d) in self.diffusers[ch].iter_mut().enumerate() {
                *d = Ring::new(ms(DIFFUSER_MS[ch][k]) + 1);
                self.diffuser_delays[ch][k] = ((DIFFUSER_MS[ch][k] * (0.001 * sample_rate)) as usize).max(1);
            }
        }
        self.diffuser_run = self.diffuser_delays.iter().flatten().fold(BLOCK, |m, &d| m.min(d));
        let longest = LINE_MS.iter().fold(0.0f32, |m, &x| m.max(x));
        self.lines = Lines::new(ms(longest * SIZE_MAX + MOD_DEPTH_MS) + 4);
        for i in 0..LINES {
            self.lfo.inc[i] = MOD_HZ[i] as f64 * CONTROL as f64 / sample_rate as f64;
        }
        self.cache = (f32::NAN, f32::NAN);
        self.reset();
    }

    pub fn reset(&mut self) {
        for r in self.predelay.iter_mut().chain(self.diffusers.iter_mut().flatten()) {
            r.reset();
        }
        self.lines.reset();
        self.damp_state = [0.0; LINES];
        self.lfo.reset();
    }

    fn scale(size: f32) -> f32 {
        SIZE_MIN + (SIZE_MAX - SIZE_MIN) * size.clamp(0.0, 1.0)
    }

    /// The mean length of line `i` in samples at a size.
    pub fn line_length(&self, i: usize, size: f32) -> f32 {
        LINE_MS[i] * Self::scale(size) * 0.001 * self.sample_rate
    }

    /// The line lengths, their gains and the early reflections' offsets for a size and decay:
    /// the one formula for the cached values and for each sample's while they glide.
    #[inline]
    fn line_settings(
        sample_rate: f32,
        size: f32,
        decay_s: f32,
        lengths: &mut [f32; LINES],
        gains: &mut [f32; LINES],
        er: &mut [usize; ER_MS.len()],
    ) {
        let sr_ms = 0.001 * sample_rate;
        for (k, off) in er.iter_mut().enumerate() {
            *off = (ER_MS[k] * Self::scale(size) * sr_ms) as usize;
        }
        for i in 0..LINES {
            // (`line_length`'s formula.)
            lengths[i] = LINE_MS[i] * Self::scale(size) * 0.001 * sample_rate;
            // −60 dB after decay_s seconds: gain per pass = 10^(−3·len / (T60·fs)).
            // (fastmath: while decay or size glide this runs every sample for every line)
            gains[i] = super::fastmath::exp2(-3.0 * std::f32::consts::LOG2_10 * lengths[i] / (decay_s.max(0.05) * sample_rate));
        }
    }

    /// The most samples a run can hold at a size: every line's delay is at least its length −
    /// the deepest modulation (|fast_sin| ≤ 1), and at least 4 (the clamp); a run may hold one
    /// sample fewer than the shortest. (Lines grow with the size: the smallest size in a block
    /// bounds all of it.)
    fn fdn_run_at(&self, size: f32) -> usize {
        let shortest = (0..LINES).map(|i| self.line_length(i, size)).fold(f32::MAX, f32::min);
        let floor = (shortest - MOD_DEPTH_MS * 0.001 * self.sample_rate - 1.0).floor().max(4.0);
        (floor.min(BLOCK as f32) as usize - 1).max(1)
    }

    #[inline]
    fn update_gains(&mut self, size: f32, decay_s: f32) {
        if self.cache == (size, decay_s) {
            return;
        }
        self.cache = (size, decay_s);
        Self::line_settings(self.sample_rate, size, decay_s, &mut self.lengths, &mut self.gains, &mut self.er_offsets);
        self.fdn_run = self.fdn_run_at(size);
    }

    /// Processes a block of frames (1 or 2 channels, at most `BLOCK` frames) in place;
    /// `settings(i)` and `fade[i]` are sample i's. Bit for bit what `tick` gives frame after
    /// frame: the block runs in runs short enough that nothing a run reads is written by the
    /// same run, so each delay line is read for the whole run, then written for the whole run.
    pub fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> ReverbSettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        if channels == 0 {
            return;
        }
        let first = settings(0);
        self.update_gains(first.size, first.decay_s);
        // Runs as long as the delays allow at the smallest size in the block; where size or
        // decay glide, a run carries each sample's line lengths and gains (`Glide`).
        let smallest = (1..n).map(|i| settings(i).size).fold(first.size, f32::min);
        let limit = self.diffuser_run.min(self.fdn_run_at(smallest));
        let mut a = 0;
        while a < n {
            let b = n.min(a + limit);
            self.run(chans, channels, a, b, &settings, fade, false);
            a = b;
        }
        // The cached values follow the last sample, for the blocks after.
        let last = settings(n - 1);
        self.update_gains(last.size, last.decay_s);
    }

    /// `process_block` for settings that hold still over the block (the chain's steady case):
    /// the runs are as long as the delays allow, and each run's settings are built once instead
    /// of sample by sample. Bit for bit `process_block(chans, |_| s, fade)`.
    pub fn process_steady(&mut self, chans: &mut [&mut [f32]], s: ReverbSettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        if channels == 0 {
            return;
        }
        self.update_gains(s.size, s.decay_s);
        let limit = self.diffuser_run.min(self.fdn_run);
        let mut a = 0;
        while a < n {
            let b = n.min(a + limit);
            self.run(chans, channels, a, b, &|_| s, fade, true);
            a = b;
        }
    }

    /// Samples `a..b` of the block: one size and decay, and b − a ≤ the shortest delay a read
    /// looks back (`diffuser_run`, `fdn_run`).
    /// `steady`: every sample's settings are `settings(a)`'s (built once, filled at once).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        chans: &mut [&mut [f32]],
        channels: usize,
        a: usize,
        b: usize,
        settings: &impl Fn(usize) -> ReverbSettings,
        fade: &[f32],
        steady: bool,
    ) {
        let m = b - a;
        let sr_ms = 0.001 * self.sample_rate;
        let Scratch { pre, early_on, depth, damp, width, mix, input, early, x, v, wet, written, glide: per } = &mut *self.scratch;
        let n_settings = if steady { 1 } else { m };
        // Size or decay away from the cached values somewhere in the run: each sample then has
        // its own line lengths, gains and reflection offsets (computed only where they change).
        let mut glide = false;
        let mut key = self.cache;
        for i in 0..n_settings {
            let s = settings(a + i);
            pre[i] = ((s.predelay_ms.clamp(0.0, MAX_PREDELAY_MS) * sr_ms) as usize).max(1);
            early_on[i] = s.early > 0.0;
            depth[i] = s.modulation.clamp(0.0, 1.0) * MOD_DEPTH_MS * sr_ms;
            damp[i] = damping_coefficient(s.damping);
            width[i] = s.width.clamp(0.0, 1.0);
            mix[i] = s.mix;
            if !steady {
                let k = (s.size, s.decay_s);
                if k != self.cache && !glide {
                    glide = true;
                    for j in 0..i {
                        (per.lengths[j], per.gains[j], per.er[j]) = (self.lengths, self.gains, self.er_offsets);
                    }
                }
                if glide {
                    if i > 0 && k == key {
                        (per.lengths[i], per.gains[i], per.er[i]) = (per.lengths[i - 1], per.gains[i - 1], per.er[i - 1]);
                    } else {
                        Self::line_settings(self.sample_rate, k.0, k.1, &mut per.lengths[i], &mut per.gains[i], &mut per.er[i]);
                    }
                }
                key = k;
            }
        }
        if steady {
            let (p0, e0, d0, k0, w0, m0) = (pre[0], early_on[0], depth[0], damp[0], width[0], mix[0]);
            pre[1..m].fill(p0);
            early_on[1..m].fill(e0);
            depth[1..m].fill(d0);
            damp[1..m].fill(k0);
            width[1..m].fill(w0);
            mix[1..m].fill(m0);
        }
        let steady_pre = steady || pre[..m].iter().all(|&p| p == pre[0]);

        // Pre-delay: the run pushed, then read back (a pure delay: no read waits for a write).
        for (ch, line) in self.predelay.iter_mut().enumerate() {
            let src = &chans[ch.min(channels - 1)][a..b];
            for i in 0..m {
                x[i] = src[i] * fade[a + i];
            }
            line.push_run(&x[..m]);
            // Sample i's tap, `pre` pushes before its own, is now pre + (m − 1 − i) pushes ago.
            if steady_pre {
                line.read_run(pre[0] + m - 1, &mut input[ch][..m]);
            } else {
                for i in 0..m {
                    input[ch][i] = line.tap(pre[i] + m - 1 - i);
                }
            }
        }
        // Early reflections, from the same line.
        let any_early = if steady { early_on[0] } else { early_on[..m].iter().any(|&on| on) };
        if any_early {
            early[0][..m].fill(0.0);
            early[1][..m].fill(0.0);
            for k in 0..ER_MS.len() {
                let src = if ER_LEFT[k] { 0 } else { 1 };
                let line = &self.predelay[src];
                if steady_pre && !glide {
                    line.read_run(pre[0] + self.er_offsets[k] + m - 1, &mut x[..m]);
                } else if !glide {
                    for i in 0..m {
                        x[i] = line.tap(pre[i] + self.er_offsets[k] + m - 1 - i);
                    }
                } else {
                    for i in 0..m {
                        x[i] = line.tap(pre[i] + per.er[i][k] + m - 1 - i);
                    }
                }
                for i in 0..m {
                    early[src][i] += x[i] * ER_GAIN[k];
                }
            }
            if !steady {
                for i in 0..m {
                    if !early_on[i] {
                        early[0][i] = 0.0;
                        early[1][i] = 0.0;
                    }
                }
            }
        }

        // Input diffusion: two allpasses per channel, each read for the run (its delay is at
        // least the run's length), then written.
        for ch in 0..MAX_CH {
            let input = &mut input[ch];
            for k in 0..2 {
                let d = self.diffuser_delays[ch][k];
                let r = &mut self.diffusers[ch][k];
                let delayed = &mut x[..m];
                r.read_run(d, delayed);
                for i in 0..m {
                    v[i] = input[i] + DIFFUSION * delayed[i];
                    input[i] = delayed[i] - DIFFUSION * v[i];
                }
                r.push_run(&v[..m]);
            }
        }

        // The FDN: read, damp, mix through the unitary matrix, feed back with the decay gains.
        // Each step below is the same arithmetic for all eight lines at once (SIMD), and per
        // line exactly the scalar sequence (no reassociation, no fused multiply-add), so the
        // sound is bit-for-bit what a line-by-line loop gives. The run's writes wait until its
        // reads are done (`fdn_run`).
        let gains = f32x8::new(self.gains);
        let lengths = f32x8::new(self.lengths);
        let max_delay = f32x8::splat(self.lines.max_delay());
        let gather = self.lines.gather();
        let mut lfo = self.lfo.clone();
        let mut damp_state = f32x8::new(self.damp_state);
        for i in 0..m {
            let (lengths, gains) = if glide { (f32x8::new(per.lengths[i]), f32x8::new(per.gains[i])) } else { (lengths, gains) };
            let d = lengths + f32x8::splat(depth[i]) * lfo.next();
            // (The max also turns a NaN into 4: `taps` relies on a finite, in-range delay.)
            let d = clamp_delay(d, max_delay);
            let ([xm1, x0, x1, x2], t) = gather.taps(&d.to_array(), i);
            let y = hermite8(f32x8::new(xm1), f32x8::new(x0), f32x8::new(x1), f32x8::new(x2), f32x8::new(t));
            // One-pole low-pass with unity DC gain.
            let st = y + f32x8::splat(damp[i]) * (damp_state - y);
            damp_state = st;
            let [l_out, r_out] = stereo_outputs(st);
            wet[0][i] = l_out;
            wet[1][i] = r_out;
            let mut fb = st.to_array();
            hadamard8_simd(&mut fb);
            let (l, r) = (input[0][i], input[1][i]);
            let inj = f32x8::new([l, r, l, r, l, r, l, r]);
            written[i] = (f32x8::new(fb) * gains + inj).to_array();
        }

        self.lfo = lfo;
        self.damp_state = damp_state.to_array();

        // Width on the wet signal, then add it: a pass over the run.
        if !any_early {
            // (The same + 0.0 as reflections that are off.)
            early[0][..m].fill(0.0);
            early[1][..m].fill(0.0);
        }
        let gain = 0.35;
        let (wet, early, width, mix) = (&wet[..2], &early[..2], &width[..m], &mix[..m]);
        let (wl_in, wr_in, el_in, er_in) = (&wet[0][..m], &wet[1][..m], &early[0][..m], &early[1][..m]);
        if channels == 2 {
            let (left, right) = chans.split_at_mut(1);
            let (left, right) = (&mut left[0][a..b], &mut right[0][a..b]);
            for i in 0..m {
                let wl = (wl_in[i] + el_in[i]) * gain;
                let wr = (wr_in[i] + er_in[i]) * gain;
                let mid = 0.5 * (wl + wr);
                let side = 0.5 * (wl - wr) * width[i];
                left[i] += mix[i] * (mid + side);
                right[i] += mix[i] * (mid - side);
            }
        } else {
            let out = &mut chans[0][a..b];
            for i in 0..m {
                let wl = (wl_in[i] + el_in[i]) * gain;
                let wr = (wr_in[i] + er_in[i]) * gain;
                out[i] += mix[i] * (0.5 * (wl + wr));
            }
        }
        self.lines.push_run(&written[..m]);
    }

    /// True if any stored sample is subnormal (tests assert the tail never is).
    pub fn has_subnormal_state(&self) -> bool {
        self.lines.has_subnormal()
            || self.predelay.iter().chain(self.diffusers.iter().flatten()).any(Ring::has_subnormal)
            || self.damp_state.iter().any(|x| x.is_subnormal())
    }
}

/// The pole of each line's damping low-pass for a damping setting 0..1.
pub fn damping_coefficient(damping: f32) -> f32 {
    damping.clamp(0.0, 1.0) * 0.85
}

/// The FDN's two outputs from the damped lines v:
/// l = v0 − v2 + v4 − v6 + ½(v1 − v5), r = v1 − v3 + v5 − v7 + ½(v2 − v6),
/// each evaluated left to right as written, l in lane 0 and r in lane 1 of the same operations.
#[inline(always)]
fn stereo_outputs(v: f32x8) -> [f32; 2] {
    let v = v.to_array();
    let lane = |a: usize| wide::f32x4::new([v[a], v[a + 1], 0.0, 0.0]);
    let half = wide::f32x4::splat(0.5);
    let x = lane(0) - lane(2) + lane(4) - lane(6) + half * (lane(1) - lane(5));
    let x = x.to_array();
    [x[0], x[1]]
}

/// Each line's read delay kept in [4, max]. On x86-64 one `maxps` and one `minps`: `maxps`
/// gives its second operand when the first is a NaN, so a NaN becomes 4 there too.
#[inline(always)]
fn clamp_delay(d: f32x8, max: f32x8) -> f32x8 {
    #[cfg(target_arch = "x86_64")]
    {
        d.fast_max(f32x8::splat(4.0)).fast_min(max)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        d.max(f32x8::splat(4.0)).min(max)
    }
}

/// `super::delay::hermite` on eight lanes, in the same order of operations.
#[inline(always)]
fn hermite8(xm1: f32x8, x0: f32x8, x1: f32x8, x2: f32x8, t: f32x8) -> f32x8 {
    let half = f32x8::splat(0.5);
    let c = (x1 - xm1) * half;
    let v = x0 - x1;
    let w = c + v;
    let a = w + v + (x2 - x0) * half;
    let b = w + a;
    ((a * t - b) * t + c) * t + x0
}

/// `fast_sin` on eight lanes, in the same order of operations.
#[inline(always)]
fn fast_sin8(phase: f32x8) -> f32x8 {
    let one = f32x8::splat(1.0);
    let x = phase * f32x8::splat(2.0) - one;
    let y = f32x8::splat(4.0) * x * (one - x.abs());
    let s = f32x8::splat(0.225) * (y * y.abs() - y) + y;
    -s
}

#[cfg(test)]
/// sin(2π·phase) for phase in [0, 1), a parabolic approximation (error ≤ 0.0011 of full scale), plenty for an
/// LFO and far cheaper than `sin`. The reverb runs `fast_sin8`; this scalar form is its reference.
#[inline]
fn fast_sin(phase: f32) -> f32 {
    let x = phase * 2.0 - 1.0; // -1..1 ↔ -π..π
    let y = 4.0 * x * (1.0 - x.abs());
    let s = 0.225 * (y * y.abs() - y) + y;
    -s
}

super::block_stage_impl!(Reverb, ReverbSettings, steady);

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight-lane forms give bit-for-bit the scalar results (the reverb's sound depends on
    /// it: tests/output_hash.rs pins it), and the LFO shape stays within 0.11 % of full scale of a sine.
    #[test]
    fn simd_lanes_match_the_scalar_forms_bit_for_bit() {
        let mut seed = 7u32;
        let mut next = move || crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32;
        for _ in 0..2_000 {
            let phase: [f32; 8] = std::array::from_fn(|_| next());
            let sin8 = fast_sin8(f32x8::new(phase)).to_array();
            for i in 0..8 {
                assert_eq!(sin8[i].to_bits(), fast_sin(phase[i]).to_bits());
                assert!((sin8[i] - (std::f32::consts::TAU * phase[i]).sin()).abs() < 1.1e-3);
            }
            let x: [[f32; 8]; 5] = std::array::from_fn(|_| std::array::from_fn(|_| next() * 2.0 - 1.0));
            let (mut fast, mut slow) = (x[0], x[0]);
            hadamard8_simd(&mut fast);
            hadamard8(&mut slow);
            assert_eq!(fast.map(f32::to_bits), slow.map(f32::to_bits));
            let h = hermite8(f32x8::new(x[0]), f32x8::new(x[1]), f32x8::new(x[2]), f32x8::new(x[3]), f32x8::new(x[4])).to_array();
            for i in 0..8 {
                let t = x[4][i];
                assert_eq!(h[i].to_bits(), super::super::delay::hermite(x[0][i], x[1][i], x[2][i], x[3][i], t).to_bits());
            }
        }
    }

    /// The SSE gather reads the same samples and fractions as the scalar form, at every offset
    /// of the write index (across the wrap and the guard) and delays from 4 to the longest.
    /// The control-rate LFOs stay on their sines: sample n of line i is within 0.0015 of
    /// sin(2π(i/8 + (n + 1)·f_i/fs)) (the parabolic sine's own error is 0.0011; the line between
    /// control points adds under 1e-5), at 8 and 48 kHz, over two minutes of phase wraps.
    #[test]
    fn the_lfos_follow_their_sines() {
        for sr in [8_000.0f32, 48_000.0] {
            let mut r = Reverb::default();
            r.prepare(sr);
            let mut worst = 0.0f64;
            for n in 0..(120.0 * sr) as usize {
                let got = r.lfo.next().to_array();
                for i in 0..LINES {
                    let phase = i as f64 / LINES as f64 + (n + 1) as f64 * MOD_HZ[i] as f64 / sr as f64;
                    worst = worst.max((got[i] as f64 - (2.0 * std::f64::consts::PI * phase).sin()).abs());
                }
            }
            eprintln!("{sr} Hz: largest difference {worst:.5}");
            assert!(worst < 0.0015, "{sr} Hz: {worst}");
        }
    }

    /// A run pushed at once leaves the buffer, guard copies included, exactly as frame-by-frame
    /// pushes do, for runs of every length from every write offset (across the wrap and the
    /// guard).
    #[test]
    fn a_pushed_run_equals_pushes_one_by_one() {
        let mut seed = 8u32;
        let (mut a, mut b) = (Lines::new(60), Lines::new(60));
        for m in (1..=13).cycle().take(400) {
            let frames: Vec<[f32; LINES]> = (0..m).map(|_| std::array::from_fn(|_| crate::dsp::xorshift32(&mut seed) as f32)).collect();
            a.push_run(&frames);
            for f in &frames {
                b.push(f);
            }
            assert_eq!(a.write, b.write);
            assert!(a.buf.iter().zip(&b.buf).all(|(x, y)| x.to_bits() == y.to_bits()), "run of {m} at {}", a.write);
        }
    }

    /// The steady form gives, bit for bit, what the general form gives for the same held
    /// settings, through holds of every kind (size, decay, pre-delay, reflections off and on,
    /// modulation, width), a fade, odd block sizes, mono and stereo, 8 and 48 kHz.
    #[test]
    fn the_steady_form_matches_the_general_form() {
        for (rate, channels) in [(8_000.0f32, 2usize), (48_000.0, 2), (48_000.0, 1)] {
            let (mut a, mut b) = (Reverb::default(), Reverb::default());
            a.prepare(rate);
            b.prepare(rate);
            let mut seed = 14u32;
            let input = |t: usize| if t % 20_000 < 4_000 { crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5 } else { 0.0 };
            let hold = |h: usize| ReverbSettings {
                predelay_ms: [10.0, 0.0, 180.0][h % 3],
                size: [0.5, 0.0, 1.0, 0.3][h % 4],
                decay_s: [1.2, 0.3, 6.0][h % 3],
                damping: 0.4,
                modulation: [0.2, 0.0, 1.0][h % 3],
                width: [1.0, 0.3][h % 2],
                early: [0.3, 0.0][h % 2],
                mix: 0.5,
            };
            let fade = |t: usize| ((t as f32 * 0.0003).sin() * 0.8 + 0.6).clamp(0.0, 1.0);
            let sizes = [64usize, 1, 77, 128, 3, 100];
            crate::dsp::block_test::assert_steady_matches_general(
                &mut a,
                &mut b,
                channels,
                &sizes,
                1_200,
                50,
                input,
                hold,
                fade,
                |_, _| {},
            );
        }
    }

    #[test]
    fn the_gather_matches_the_scalar_form() {
        let mut lines = Lines::new(300);
        let mut seed = 11u32;
        let mut next = move || crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32;
        for step in 0..3 * lines.len {
            let v: [f32; LINES] = std::array::from_fn(|_| next() - 0.5);
            lines.push(&v);
            for at in [0, 1, 7] {
                let d: [f32; LINES] =
                    std::array::from_fn(|i| if i == step % LINES { lines.max_delay() } else { 4.0 + next() * (lines.max_delay() - 4.0) });
                let (fast, slow) = (lines.gather().taps(&d, at), lines.gather().taps_scalar(&d, at));
                assert_eq!(fast.0.map(|r| r.map(f32::to_bits)), slow.0.map(|r| r.map(f32::to_bits)), "step {step} at {at}");
                assert_eq!(fast.1.map(f32::to_bits), slow.1.map(f32::to_bits));
            }
        }
    }

    /// Blocks of any size give, bit for bit, what frame after frame gives, through stretches
    /// where every setting holds and stretches where size, decay, pre-delay, modulation, early
    /// reflections and the rest move every sample (so runs end at every sample), a fade, mono
    /// and stereo, odd block sizes, and 8 kHz, where a diffuser's delay (24 samples) and the
    /// shortest line (≈ 84 samples) are shorter than a block.
    #[test]
    fn any_block_size_gives_the_same_bits() {
        for (rate, channels) in [(48_000.0, 2usize), (48_000.0, 1), (8_000.0, 2)] {
            let (mut a, mut b) = (Reverb::default(), Reverb::default());
            a.prepare(rate);
            b.prepare(rate);
            let mut seed = 3u32;
            let input = |t: usize| {
                let noise = crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5;
                if t % 9_000 < 3_000 {
                    noise
                } else {
                    0.0
                }
            };
            let settings = |t: usize| {
                let x = t as f32;
                if (t / 5_000).is_multiple_of(2) {
                    // Holding still (one run per block, as far as the delays allow).
                    ReverbSettings { size: 0.2 + 0.1 * (t / 10_000) as f32, ..ReverbSettings::default() }
                } else {
                    ReverbSettings {
                        predelay_ms: 20.0 + 15.0 * (x * 0.001).sin(),
                        size: 0.5 + 0.5 * (x * 0.0003).sin(),
                        decay_s: 1.0 + 0.8 * (x * 0.0005).cos(),
                        damping: 0.5 + 0.4 * (x * 0.0007).sin(),
                        modulation: if t % 700 < 350 { 0.0 } else { 0.8 },
                        width: 0.5 + 0.5 * (x * 0.0011).sin(),
                        early: if t % 1_100 < 500 { 0.0 } else { 0.6 },
                        mix: 0.5,
                    }
                }
            };
            let fade = |t: usize| ((t as f32 * 0.0002).sin() * 0.8 + 0.6).clamp(0.0, 1.0);
            let sizes = [128usize, 1, 77, 128, 3, 64, 128, 100];
            crate::dsp::block_test::assert_blocks_match_frames(&mut a, &mut b, channels, &sizes, 500, input, settings, fade, |a, b| {
                assert_eq!(a.damp_state.map(f32::to_bits), b.damp_state.map(f32::to_bits));
                assert_eq!(a.lfo.phase.map(f64::to_bits), b.lfo.phase.map(f64::to_bits));
            });
            assert!(a.damp_state.iter().any(|&x| x.abs() > 1e-4), "the test must fill the lines");
        }
    }
}
