//! The FDN's vector helpers: the Hadamard matrix, the stereo outputs, the delay clamp and the
//! eight-lane Hermite interpolation, each bit for bit its scalar form.

use super::*;

/// `hadamard8` on SSE registers (baseline on x86-64): each butterfly stage is a pair of shuffles,
/// an add and a subtract over four lanes, every output the same sum or difference of the same two
/// values as in the scalar form, so the result is bit-for-bit the same.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn hadamard8_simd(v: &mut [f32; LINES]) {
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
pub(super) fn hadamard8_simd(v: &mut [f32; LINES]) {
    hadamard8(v)
}

/// In-place fast Walsh–Hadamard transform of 8 values, scaled to be unitary.
#[inline]
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn hadamard8(v: &mut [f32; LINES]) {
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

/// The FDN's two outputs from the damped lines v:
/// l = v0 − v2 + v4 − v6 + ½(v1 − v5), r = v1 − v3 + v5 − v7 + ½(v2 − v6),
/// each evaluated left to right as written, l in lane 0 and r in lane 1 of the same operations.
#[inline(always)]
pub(super) fn stereo_outputs(v: f32x8) -> [f32; 2] {
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
pub(super) fn clamp_delay(d: f32x8, max: f32x8) -> f32x8 {
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
pub(super) fn hermite8(xm1: f32x8, x0: f32x8, x1: f32x8, x2: f32x8, t: f32x8) -> f32x8 {
    let half = f32x8::splat(0.5);
    let c = (x1 - xm1) * half;
    let v = x0 - x1;
    let w = c + v;
    let a = w + v + (x2 - x0) * half;
    let b = w + a;
    ((a * t - b) * t + c) * t + x0
}
