//! The reverb against theory: decay time from Schroeder backward integration, stereo
//! decorrelation, no runaway, and a denormal-free tail.

mod common;
use common::*;
use livechain::dsp::denormal::DenormalGuard;
use livechain::dsp::reverb::{Reverb, ReverbSettings};
use livechain::dsp::BlockStage;

fn impulse_response(r: &mut Reverb, s: &ReverbSettings, frames: usize) -> (Vec<f32>, Vec<f32>) {
    let _g = DenormalGuard::new();
    let (mut l, mut rr) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
    for n in 0..frames {
        let x = if n == 0 { 1.0 } else { 0.0 };
        let mut f = [x, x];
        r.tick(&mut f, s, 1.0);
        l.push(f[0] - x);
        rr.push(f[1] - x);
    }
    (l, rr)
}

/// T60 from the energy decay curve (Schroeder), fitted between −5 and −35 dB (T30 × 2).
fn schroeder_t60(l: &[f32], r: &[f32], sr: f32) -> f64 {
    schroeder_decay_time(&[l, r], sr as f64, -35.0)
}

#[test]
fn decay_time_matches_the_setting_from_0_3_to_10_seconds() {
    let sr = 48_000.0;
    for decay in [0.3f32, 0.7, 1.5, 3.0, 6.0, 10.0] {
        for size in [0.2f32, 0.8] {
            let mut r = Reverb::default();
            r.prepare(sr);
            let s =
                ReverbSettings { predelay_ms: 0.0, size, decay_s: decay, damping: 0.0, modulation: 0.2, width: 1.0, early: 0.0, mix: 1.0 };
            let (l, rr) = impulse_response(&mut r, &s, ((decay * 1.2 + 0.5) * sr) as usize);
            let t60 = schroeder_t60(&l, &rr, sr);
            eprintln!("reverb decay set {decay} s, size {size}: measured T60 {t60:.3} s");
            assert!((t60 - decay as f64).abs() <= 0.1 * decay as f64, "set {decay} s (size {size}): measured {t60:.3} s");
        }
    }
}

#[test]
fn damping_shortens_the_highs_but_keeps_the_low_decay() {
    let sr = 48_000.0;
    let mut r = Reverb::default();
    r.prepare(sr);
    let s = ReverbSettings { predelay_ms: 0.0, size: 0.5, decay_s: 2.0, damping: 0.8, modulation: 0.0, width: 1.0, early: 0.0, mix: 1.0 };
    let (l, rr) = impulse_response(&mut r, &s, (3.0 * sr) as usize);
    // Low-pass the IR at ~200 Hz: the low band still decays in the set time (±10 %).
    let lp = |x: &[f32]| {
        let c = (-std::f32::consts::TAU * 200.0 / sr).exp();
        let mut st = 0.0;
        x.iter()
            .map(|&v| {
                st = v + c * (st - v);
                st
            })
            .collect::<Vec<f32>>()
    };
    let t_low = schroeder_t60(&lp(&lp(&l)), &lp(&lp(&rr)), sr);
    assert!((t_low - 2.0).abs() <= 0.2, "low band {t_low}");
    // At 4 kHz each pass through a line also loses |H(4 kHz)| of the damping low-pass. The
    // unitary matrix spreads energy evenly over the lines, so a recirculation costs the mean loss
    // per pass over the mean line length: 60 dB/T60 per second from the decay gains, plus
    // −20·log10|H| per mean pass.
    let f = 4_000.0f64;
    let a = livechain::dsp::reverb::damping_coefficient(0.8) as f64;
    let w = std::f64::consts::TAU * f / sr as f64;
    let h = (1.0 - a) / ((1.0 - a * w.cos()).powi(2) + (a * w.sin()).powi(2)).sqrt();
    let lines = livechain::dsp::reverb::LINES;
    let mean_len = (0..lines).map(|i| r.line_length(i, 0.5) as f64).sum::<f64>() / lines as f64;
    let t_theory = 60.0 / (60.0 / 2.0 + (-20.0 * h.log10()) * sr as f64 / mean_len);
    // Measured by the interrupted-tone method: a steady 4 kHz tone, stopped, and the slope of the
    // decaying output's level (10 ms windows) between −5 and −35 dB.
    let mut r = Reverb::default();
    r.prepare(sr);
    let _g = DenormalGuard::new();
    let tone = sine(sr as usize, f as f32, sr, 0.5);
    let mut tail = Vec::new();
    for n in 0..(2 * sr as usize) {
        let x = tone.get(n).copied().unwrap_or(0.0);
        let mut fr = [x, x];
        r.tick(&mut fr, &s, 1.0);
        if n >= sr as usize {
            tail.push((fr[0] as f64).powi(2) + (fr[1] as f64).powi(2));
        }
    }
    let win = (0.01 * sr) as usize;
    let levels: Vec<f64> = tail.chunks(win).map(|c| 10.0 * (c.iter().sum::<f64>() / win as f64).log10()).collect();
    let rel: Vec<f64> = levels.iter().map(|l| l - levels[0]).collect();
    let i0 = rel.iter().position(|&d| d <= -5.0).unwrap();
    let i1 = rel.iter().position(|&d| d <= -35.0).unwrap();
    let t_high = (i1 - i0) as f64 * 0.01 * 60.0 / (rel[i0] - rel[i1]);
    assert!(t_theory < 0.5 * t_low, "the theory itself predicts a shorter high decay");
    assert!((t_high - t_theory).abs() <= 0.05 * t_theory, "4 kHz: {t_high:.3} s, theory {t_theory:.3} s");
}

#[test]
fn the_tail_is_stereo_decorrelated_and_width_zero_is_mono() {
    let sr = 48_000.0;
    let mut r = Reverb::default();
    r.prepare(sr);
    let s = ReverbSettings { predelay_ms: 0.0, early: 0.3, ..ReverbSettings::default() };
    let (l, rr) = impulse_response(&mut r, &s, sr as usize);
    let from = (0.05 * sr) as usize;
    let (a, b) = (&l[from..], &rr[from..]);
    let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(&p, &q)| p as f64 * q as f64).sum::<f64>();
    let rho = dot(a, b) / (dot(a, a) * dot(b, b)).sqrt();
    assert!(rho.abs() < 0.3, "interchannel correlation {rho}");
    let mut r = Reverb::default();
    r.prepare(sr);
    let (l, rr) = impulse_response(&mut r, &ReverbSettings { width: 0.0, ..s }, sr as usize);
    assert!(l.iter().zip(&rr).all(|(p, q)| (p - q).abs() < 1e-6), "width 0 gives identical channels");
}

#[test]
fn no_setting_runs_away() {
    let sr = 48_000.0;
    for size in [0.0f32, 1.0] {
        for decay in [0.2f32, 20.0] {
            for modulation in [0.0f32, 1.0] {
                let mut r = Reverb::default();
                r.prepare(sr);
                let s =
                    ReverbSettings { predelay_ms: 200.0, size, decay_s: decay, damping: 0.0, modulation, width: 1.0, early: 1.0, mix: 1.0 };
                let x = noise(sr as usize, 1.0, 8);
                let _g = DenormalGuard::new();
                let mut first = 0.0f64;
                let mut last = 0.0f64;
                for n in 0..(sr as usize * 4) {
                    let v = x.get(n).copied().unwrap_or(0.0);
                    let mut f = [v, v];
                    r.tick(&mut f, &s, 1.0);
                    assert!(f[0].is_finite() && f[1].abs() < 50.0, "size {size} decay {decay}: {f:?}");
                    let e = (f[0] as f64).powi(2);
                    if n < sr as usize {
                        first += e
                    } else if n >= 3 * sr as usize {
                        last += e
                    }
                }
                assert!(last < first, "size {size} decay {decay} mod {modulation}: energy grew");
            }
        }
    }
}

#[test]
fn the_tail_is_denormal_free_and_reaches_true_silence() {
    let sr = 48_000.0;
    let mut r = Reverb::default();
    r.prepare(sr);
    let s = ReverbSettings { decay_s: 0.3, ..ReverbSettings::default() };
    let _g = DenormalGuard::new();
    let x = noise(4_800, 0.5, 2);
    let mut last = [1.0f32; 2];
    for n in 0..(sr as usize * 30) {
        let v = x.get(n).copied().unwrap_or(0.0);
        let mut f = [v, v];
        r.tick(&mut f, &s, 1.0);
        assert!(!f[0].is_subnormal() && !f[1].is_subnormal());
        last = f;
    }
    assert!(!r.has_subnormal_state());
    assert_eq!(last, [0.0, 0.0], "30 s after a 0.3 s reverb the output is exactly zero");
}
