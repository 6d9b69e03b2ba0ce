//! The FDN's eight delay lines in one buffer, laid out for four-lane loads, and their reads.

use super::*;

/// The eight FDN lines in one allocation, line after line, all the same power-of-two length and
/// written at one shared index: a push is eight stores at one offset, and every per-line step
/// (LFO, interpolation, damping, matrix, gains) runs over `[f32; LINES]` arrays the compiler
/// turns into SIMD. Each line is followed by a copy of its first `GUARD` samples, so the four
/// samples an interpolated read needs are always four neighbours in memory, even across the
/// ring's wrap: one short copy per line instead of four masked reads.
#[derive(Debug, Clone, Default)]
pub(super) struct Lines {
    pub(super) buf: Vec<f32>,
    pub(super) len: usize,
    /// Distance from one line's start to the next: `len` plus the guard (and padding).
    pub(super) stride: usize,
    pub(super) mask: usize,
    pub(super) write: usize,
}

/// Samples copied past each line's end (an interpolated read spans four).
pub(super) const GUARD: usize = 3;

impl Lines {
    pub(super) fn new(min_len: usize) -> Self {
        let len = (min_len + 4).next_power_of_two();
        let stride = len + 4;
        Self { buf: vec![0.0; stride * LINES], len, stride, mask: len - 1, write: 0 }
    }
    pub(super) fn reset(&mut self) {
        self.buf.fill(0.0);
        self.write = 0;
    }
    /// The longest fractional delay `taps` may be asked for.
    pub(super) fn max_delay(&self) -> f32 {
        (self.len - 4) as f32
    }
    /// The read side of the lines for a run (their pushes wait until the run's reads are done).
    #[inline(always)]
    pub(super) fn gather(&self) -> Gather<'_> {
        Gather { buf: &self.buf, write: self.write, mask: self.mask, stride: self.stride }
    }
    #[inline]
    pub(super) fn push(&mut self, v: &[f32; LINES]) {
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
    pub(super) fn push_run(&mut self, frames: &[[f32; LINES]]) {
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
    pub(super) fn has_subnormal(&self) -> bool {
        self.buf.iter().any(|x| x.is_subnormal())
    }
}

/// What a run's reads need of the lines, copied out once per run: as locals they stay in
/// registers through the run's loop instead of being reloaded for every sample.
#[derive(Clone, Copy)]
pub(super) struct Gather<'a> {
    pub(super) buf: &'a [f32],
    pub(super) write: usize,
    pub(super) mask: usize,
    pub(super) stride: usize,
}

impl Gather<'_> {
    /// The four samples around `d` pushes ago on every line (4 ≤ d ≤ `max_delay`, finite) and
    /// the fractions, as they will be `at` pushes from now (the run's pushes come after its
    /// reads; at < d − 1 keeps every read on samples already written).
    #[inline]
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    pub(super) fn taps_scalar(&self, d: &[f32; LINES], at: usize) -> ([[f32; LINES]; 4], [f32; LINES]) {
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
    pub(super) fn taps(&self, d: &[f32; LINES], at: usize) -> ([[f32; LINES]; 4], [f32; LINES]) {
        self.taps_scalar(d, at)
    }

    /// `taps_scalar` on SSE (baseline on x86-64): the same truncation, fractions and offsets four
    /// lines at a time, and each line's four neighbours, loaded as one vector, turned into the
    /// four "same age on every line" vectors by a 4 × 4 transpose. Only data moves differently:
    /// the values are the same bits.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    pub(super) fn taps(&self, d: &[f32; LINES], at: usize) -> ([[f32; LINES]; 4], [f32; LINES]) {
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
