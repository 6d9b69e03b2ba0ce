//! Loudness to ITU-R BS.1770-4 / EBU R128: K-weighted mean square in 400 ms blocks with 75 %
//! overlap, the absolute −70 LUFS gate and the relative −10 LU gate.

use crate::dsp::kweight::KWeighting;

/// Loudness of a mean square (sum over channels, all weighted 1.0 for mono and stereo).
pub fn lufs(mean_square: f64) -> f64 {
    -0.691 + 10.0 * mean_square.max(1e-30).log10()
}

/// The mean squares of the 400 ms gating blocks (100 ms hop) of a signal.
pub fn block_powers(channels: &[&[f32]], sample_rate: f64) -> Vec<f64> {
    let len = channels.first().map_or(0, |c| c.len());
    let hop = (sample_rate * 0.1).round() as usize;
    if hop == 0 {
        return Vec::new();
    }
    // Mean square of K-weighted signal per 100 ms hop, summed over channels.
    let mut hops = Vec::with_capacity(len / hop + 1);
    let mut kws: Vec<KWeighting> = channels.iter().map(|_| KWeighting::new(sample_rate)).collect();
    let mut acc = 0.0f64;
    let mut count = 0;
    for i in 0..len {
        for (ch, kw) in channels.iter().zip(kws.iter_mut()) {
            let y = kw.tick(ch[i] as f64);
            acc += y * y;
        }
        count += 1;
        if count == hop {
            hops.push(acc / hop as f64);
            acc = 0.0;
            count = 0;
        }
    }
    hops.windows(4).map(|w| w.iter().sum::<f64>() / 4.0).collect()
}

/// Gated integrated loudness, LUFS; None when every block is below the absolute gate.
pub fn integrated_from_blocks(blocks: &[f64]) -> Option<f64> {
    let above_abs: Vec<f64> = blocks.iter().copied().filter(|&p| lufs(p) > -70.0).collect();
    if above_abs.is_empty() {
        return None;
    }
    let relative_gate = lufs(above_abs.iter().sum::<f64>() / above_abs.len() as f64) - 10.0;
    let gated: Vec<f64> = above_abs.into_iter().filter(|&p| lufs(p) > relative_gate).collect();
    if gated.is_empty() {
        return None;
    }
    Some(lufs(gated.iter().sum::<f64>() / gated.len() as f64))
}

/// Integrated loudness of a whole signal (one slice per channel), LUFS.
pub fn integrated(channels: &[&[f32]], sample_rate: f64) -> Option<f64> {
    integrated_from_blocks(&block_powers(channels, sample_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(secs: f64, db: f64, sr: f64) -> Vec<f32> {
        let amp = 10f64.powf(db / 20.0);
        (0..(secs * sr) as usize).map(|i| (amp * (std::f64::consts::TAU * 1000.0 * i as f64 / sr).sin()) as f32).collect()
    }

    fn sequence(parts: &[(f64, f64)], sr: f64) -> Vec<f32> {
        parts.iter().flat_map(|&(secs, db)| sine(secs, db, sr)).collect()
    }

    fn check(parts: &[(f64, f64)], want: f64, tol: f64) {
        for sr in [48_000.0, 44_100.0] {
            let x = sequence(parts, sr);
            let got = integrated(&[&x, &x], sr).unwrap();
            assert!((got - want).abs() <= tol, "{parts:?} at {sr}: {got:.3} LUFS, want {want}");
        }
    }

    // EBU Tech 3341 (v4), the stereo cases that are generated from 1 kHz sines.
    #[test]
    fn tech3341_case1_sine_at_minus_23() {
        check(&[(20.0, -23.0)], -23.0, 0.1);
    }

    #[test]
    fn tech3341_case2_sine_at_minus_33() {
        check(&[(20.0, -33.0)], -33.0, 0.1);
    }

    #[test]
    fn tech3341_case3_relative_gate() {
        check(&[(10.0, -36.0), (60.0, -23.0), (10.0, -36.0)], -23.0, 0.1);
    }

    #[test]
    fn tech3341_case4_absolute_and_relative_gates() {
        check(&[(10.0, -72.0), (10.0, -36.0), (60.0, -23.0), (10.0, -36.0), (10.0, -72.0)], -23.0, 0.1);
    }

    #[test]
    fn tech3341_case5_steps() {
        check(&[(20.0, -26.0), (20.1, -20.0), (20.0, -26.0)], -23.0, 0.1);
    }

    #[test]
    fn silence_has_no_integrated_loudness() {
        let x = vec![0.0f32; 48_000];
        assert_eq!(integrated(&[&x], 48_000.0), None);
    }
}
