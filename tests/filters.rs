//! The high- and low-pass filters against their analytic Butterworth responses, and their
//! behaviour when swept at audio rate at every sample rate.

mod common;
use common::*;
use livechain::dsp::svf::{Filter, Mode, Slope};

/// |H(f)| of the running filter, from the DFT of its impulse response at one frequency.
fn measured_magnitude(filter: &mut Filter, sr: f64, freqs: &[f64], ir_len: usize) -> Vec<f64> {
    filter.reset();
    let ir: Vec<f64> = (0..ir_len).map(|n| filter.tick(0, if n == 0 { 1.0 } else { 0.0 }) as f64).collect();
    freqs
        .iter()
        .map(|&f| {
            let w = std::f64::consts::TAU * f / sr;
            let (mut re, mut im) = (0.0, 0.0);
            for (n, &h) in ir.iter().enumerate() {
                re += h * (w * n as f64).cos();
                im -= h * (w * n as f64).sin();
            }
            (re * re + im * im).sqrt()
        })
        .collect()
}

#[test]
fn magnitude_response_matches_the_analytic_butterworth_within_0_05_db() {
    for sr in [44_100.0f64, 48_000.0, 96_000.0] {
        // 100 frequencies, log-spaced from 20 Hz to 0.45·fs.
        let freqs: Vec<f64> = (0..100).map(|i| 20.0 * (0.45 * sr / 20.0).powf(i as f64 / 99.0)).collect();
        for mode in [Mode::LowPass, Mode::HighPass] {
            for slope in [Slope::Db12, Slope::Db24] {
                for cutoff in [60.0f32, 1_000.0, 9_000.0] {
                    let mut f = Filter::new(mode);
                    f.prepare(sr as f32);
                    f.set(cutoff, slope);
                    // Long enough for the slowest (60 Hz, 24 dB) response to ring out.
                    let got = measured_magnitude(&mut f, sr, &freqs, (sr * 0.5) as usize);
                    for (&fr, &g) in freqs.iter().zip(&got) {
                        let want = Filter::analytic_magnitude(mode, slope, cutoff as f64, sr, fr);
                        let (gd, wd) = (20.0 * g.log10(), 20.0 * want.log10());
                        // Deep in the stop band f32 rounding dominates; check where it is audible.
                        if wd > -60.0 {
                            assert!((gd - wd).abs() < 0.05, "{mode:?} {slope:?} fc={cutoff} sr={sr} f={fr:.1}: {gd:.4} dB vs {wd:.4} dB");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn cutoff_is_minus_3_db_and_slopes_are_12_and_24_db_per_octave() {
    let sr = 48_000.0;
    for (slope, per_oct) in [(Slope::Db12, 12.0), (Slope::Db24, 24.0)] {
        let at = |f: f64| 20.0 * Filter::analytic_magnitude(Mode::LowPass, slope, 100.0, sr, f).log10();
        assert!((at(100.0) + 3.0103).abs() < 0.01);
        // Far in the stop band (well below where the bilinear warp matters) each octave costs
        // the slope.
        let drop = at(800.0) - at(1_600.0);
        assert!((drop - per_oct).abs() < 0.25, "{slope:?}: {drop} dB/oct");
        let hp = |f: f64| 20.0 * Filter::analytic_magnitude(Mode::HighPass, slope, 1_000.0, sr, f).log10();
        assert!((hp(1_000.0) + 3.0103).abs() < 0.01);
        assert!((hp(62.5) - hp(125.0) + per_oct).abs() < 0.5);
    }
}

#[test]
fn audio_rate_sweeps_stay_stable_at_every_sample_rate() {
    for sr in [8_000.0f32, 11_025.0, 22_050.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0, 192_000.0, 384_000.0] {
        for mode in [Mode::LowPass, Mode::HighPass] {
            let mut f = Filter::new(mode);
            f.prepare(sr);
            let x = noise((sr * 0.5) as usize, 0.5, 3);
            let mut peak = 0.0f32;
            for (i, &v) in x.iter().enumerate() {
                // 10 Hz ↔ 20 kHz, exponentially, ten times a second.
                let phase = (i as f32 / sr * 10.0).fract();
                let tri = 1.0 - (2.0 * phase - 1.0).abs();
                f.set(10.0 * 2000f32.powf(tri), Slope::Db24);
                let y = f.tick(0, v);
                assert!(y.is_finite(), "{mode:?} at {sr}: not finite at {i}");
                peak = peak.max(y.abs());
            }
            assert!(peak < 4.0, "{mode:?} at {sr}: peak {peak}");
        }
    }
}

#[test]
fn a_fast_sweep_makes_no_jump_larger_than_the_input_has() {
    // A single tone: Butterworth responses never exceed unity gain, so in steady state the
    // output's largest step is at most the input's. A sweep must not add a click on top.
    // Measured: a full 20 Hz → 20 kHz → 20 Hz sweep twice a second (fast automation) stays within
    // 1.2 % of the input's largest step. Twenty times a second (400 octaves/s) the tone is gated
    // open and shut every 25 ms, and the 4th-order Butterworth's own step-response overshoot
    // (about 11 % in level) shows: 6 % at 12 dB/oct, 26 % at 24 dB/oct. A coefficient click or a
    // state blow-up is a step many times the input's.
    let sr = 48_000.0f32;
    for (rate, bound12, bound24) in [(2.0f32, 1.02f32, 1.02f32), (20.0, 1.08, 1.30)] {
        for mode in [Mode::LowPass, Mode::HighPass] {
            for slope in [Slope::Db12, Slope::Db24] {
                let mut f = Filter::new(mode);
                f.prepare(sr);
                let x = sine(48_000, 440.0, sr, 0.5);
                let max_in_step = x.windows(2).map(|w| (w[1] - w[0]).abs()).fold(0.0, f32::max);
                let mut prev = 0.0f32;
                let mut max_out_step = 0.0f32;
                for (i, &v) in x.iter().enumerate() {
                    let phase = (i as f32 / sr * rate).fract();
                    let tri = 1.0 - (2.0 * phase - 1.0).abs();
                    f.set(20.0 * 1000f32.powf(tri), slope);
                    let y = f.tick(0, v);
                    if i > 0 {
                        max_out_step = max_out_step.max((y - prev).abs());
                    }
                    prev = y;
                }
                let ratio = max_out_step / max_in_step;
                let bound = if slope == Slope::Db12 { bound12 } else { bound24 };
                assert!(ratio <= bound, "{rate} sweeps/s {mode:?} {slope:?}: output step {ratio:.4} × the input's");
            }
        }
    }
}
