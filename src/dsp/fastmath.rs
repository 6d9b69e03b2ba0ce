//! Cheap log2/exp2 for the dynamics' per-sample level and gain conversions, where libm's
//! log10/exp cost more than the rest of a compressor. Errors (tested below, against f64 libm):
//! |log2| < 1e-5 absolute (the f32 rounding of results near ±100), exp2 < 1e-6 relative — under 1e-4 dB, far under anything audible or
//! any meter's resolution.

/// log2(x) for x > 0 (returns a large negative number for 0 and subnormals).
#[inline]
pub fn log2(x: f32) -> f32 {
    let bits = x.max(f32::MIN_POSITIVE).to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    // Mantissa in [1, 2), then moved into [√½, √2) so the series below converges fast.
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    if m > std::f32::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    // ln m = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.172: four odd terms leave < 3e-8.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let ln = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0))));
    e as f32 + ln * std::f32::consts::LOG2_E
}

/// 2^x, for x in about [−126, 127] (clamped outside; a NaN gives 2^−126).
#[inline]
#[allow(clippy::manual_clamp)] // `clamp` keeps a NaN; max/min turn it into −126
pub fn exp2(x: f32) -> f32 {
    // (`max` maps a NaN to −126, so what follows sees a finite x in [−126, 126].)
    let x = x.max(-126.0).min(126.0);
    // SAFETY: x is finite and within ±126, far inside i32: the truncation is exact and the
    // unchecked form is one conversion instruction (the checked `as` adds NaN and range fixes
    // that keep the dynamics' gain passes from running on SIMD lanes).
    let mut i = unsafe { x.to_int_unchecked::<i32>() };
    if (i as f32) > x {
        i -= 1;
    }
    // 2^f for f in [0, 1) as √2 · e^y, y = (f − ½)·ln 2 in [−0.347, 0.347): Taylor to y⁶.
    let y = (x - i as f32 - 0.5) * std::f32::consts::LN_2;
    let p = 1.0 + y * (1.0 + y * (0.5 + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0 + y * (1.0 / 720.0))))));
    f32::from_bits(((i + 127) as u32) << 23) * std::f32::consts::SQRT_2 * p
}

/// Decibels to a linear gain.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    exp2(db * (std::f32::consts::LOG2_10 / 20.0))
}

/// A linear level to decibels (silence floors at about −760 dB).
#[inline]
pub fn gain_to_db(g: f32) -> f32 {
    log2(g.abs()) * (20.0 * std::f32::consts::LOG10_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_error_is_under_1e_5_over_the_whole_range() {
        let mut worst = 0.0f64;
        let mut x = 1e-30f64;
        while x < 1e30 {
            let err = (log2(x as f32) as f64 - (x as f32 as f64).log2()).abs();
            worst = worst.max(err);
            x *= 1.0007;
        }
        assert!(worst < 1e-5, "worst log2 error {worst:e}");
    }

    #[test]
    fn exp2_relative_error_is_under_1e_6() {
        let mut worst = 0.0f64;
        let mut x = -120.0f32;
        while x < 120.0 {
            let want = (x as f64).exp2();
            let err = (exp2(x) as f64 / want - 1.0).abs();
            worst = worst.max(err);
            x += 0.0013;
        }
        assert!(worst < 1e-6, "worst exp2 relative error {worst:e}");
        // Outside the range it clamps, and a NaN gives a finite gain.
        assert_eq!(exp2(1000.0), exp2(126.0));
        assert_eq!(exp2(-1000.0), exp2(-126.0));
        assert_eq!(exp2(f32::NAN), exp2(-126.0));
    }

    #[test]
    fn decibel_conversions_agree_with_libm_to_1e_4_db() {
        for i in -1500..=300 {
            let db = i as f32 * 0.1;
            let g = db_to_gain(db);
            assert!((20.0 * (g as f64).log10() - db as f64).abs() < 1e-4, "{db} dB → {g}");
            assert!((gain_to_db(g) - db).abs() < 1e-4, "{g} → {} dB, want {db}", gain_to_db(g));
        }
        assert!(gain_to_db(0.0) < -700.0);
    }
}
