//! What a loop-aware detector would have to go on. A detector that knew the loop's gain per
//! frequency could notch a howl the moment its loop gain reached 0 dB, and leave music with no
//! loop alone whatever it looked like. The only estimate of the loop the suppressor has is the
//! canceller's (`dsp::feedback::afc`), and it holds still until a howl is in sight. Here it
//! runs as a shadow: learning all the time, never subtracting anything from the audio, with a
//! given step size and floor. `cargo xtask howl --loop-aware` prints, for a grid of both:
//! - how well it knows the loop before the step of `step` (two seconds 6 dB under the
//!   response's MSG, suppressor off): its gain at the loop's loudest frequency, where a howl is
//!   likeliest, against the truth, and where its own loudest point is;
//! - what it makes of music with no loop at all: the loudest point of its estimate while it
//!   listens (a true estimate stays at nothing).
//!
//! A gate on it needs both: the loop learnt where it will howl, and music's estimate far under
//! 0 dB. The closed loop makes the source and the output correlated, and where the source is a
//! held tone the loop cannot be told from the source by these two signals at all, short of
//! changing the forward path (a shift, a delay, probe noise); the canceller's prediction-error
//! filter and pitch predictor take out what of the source they can predict.

use super::convolve::Convolver;
use super::room::Room;
use super::{BLOCK, SR};
use crate::dsp::feedback::afc::{self, Canceller};
use realfft::RealFftPlanner;

/// The transform responses are read through: 1.5 Hz bins at 48 kHz, and longer than every
/// room's response (the club's is 0.61 s).
pub const FFT: usize = 32768;
/// The band a howl is looked for in (Hz): the loudspeaker's.
pub const LOW_HZ: f32 = 80.0;
pub const HIGH_HZ: f32 = 12_000.0;
/// How often music's estimate is read (samples: 50 ms).
const READ_EVERY: usize = 2400;

/// An impulse response's gain per frequency (dB), `FFT / 2 + 1` bins. Panics on a response
/// longer than `FFT`.
pub fn response_db(ir: &[f32], scale: f32) -> Vec<f32> {
    assert!(ir.len() <= FFT, "a response of {} samples read through {FFT}", ir.len());
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
    let mut x = vec![0.0f32; FFT];
    for (d, &s) in x.iter_mut().zip(ir) {
        *d = s * scale;
    }
    let mut spec = fft.make_output_vec();
    // (Lengths fixed above: the transform cannot fail.)
    let _ = fft.process(&mut x, &mut spec);
    spec.iter().map(|c| 10.0 * (c.norm_sqr() + 1e-30).log10()).collect()
}

/// The width of `response_db`'s bins (Hz).
const BIN_HZ: f32 = SR / FFT as f32;

/// The loudest bin of `db` in the band: (bin, dB).
pub fn loudest(db: &[f32]) -> (usize, f32) {
    let (lo, hi) = ((LOW_HZ / BIN_HZ) as usize, ((HIGH_HZ / BIN_HZ) as usize).min(db.len()));
    (lo..hi).map(|k| (k, db[k])).fold((lo, f32::MIN), |a, b| if b.1 > a.1 { b } else { a })
}

/// A shadow canceller learning with step `mu` and floor `floor`.
fn shadow(mu: f32, floor: f32) -> Canceller {
    let mut c = Canceller::new(SR);
    c.set_step(mu, floor);
    c
}

/// Feeds one block to a shadow: `x` came in, and (no suppressor, a flat chain) went out as is.
fn listen(c: &mut Canceller, x: &[f32; BLOCK]) {
    let mut e = [0.0f32; BLOCK];
    for (i, (e, &x)) in e.iter_mut().zip(x).enumerate() {
        *e = c.cancel(i, x);
    }
    c.urge();
    c.feed(x, &e, x);
}

/// What the shadow knew of a loop (`learnt`).
#[derive(Debug, Clone, Copy)]
pub struct Learnt {
    /// The loop's loudest frequency (Hz) and its gain there (dB) while held 6 dB under the MSG.
    pub howl_hz: f32,
    pub truth_db: f32,
    /// The gain there of the part of the loop the estimator can model (its first
    /// `afc::LENGTH_S` and a block): what it could know at best.
    pub reach_db: f32,
    /// The estimate's gain at that frequency (dB).
    pub est_db: f32,
    /// The estimate's own loudest point (Hz, dB), and the loop's true gain there (dB).
    pub est_peak_hz: f32,
    pub est_peak_db: f32,
    pub truth_at_est_peak_db: f32,
}

/// The loop held 6 dB under the response's MSG for two seconds (the lead-in of `step`), no
/// suppressor, a shadow learning all along: what it knows of the loop at the end.
pub fn learnt(room: &Room, src: &[f32], mu: f32, floor: f32) -> Learnt {
    let gain = 10f32.powf((-room.peak_gain_db - 6.0) / 20.0);
    let mut conv = Convolver::new(&room.ir, BLOCK);
    let mut c = shadow(mu, floor);
    let (mut fb, mut x) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
    let frames = (2.0 * SR) as usize;
    let mut pos = 0;
    while pos + BLOCK <= frames {
        conv.next(&mut fb);
        for (i, (x, f)) in x.iter_mut().zip(&fb).enumerate() {
            *x = src[(pos + i) % src.len()] + gain * f;
        }
        listen(&mut c, &x);
        conv.push(&x);
        pos += BLOCK;
    }
    let truth = response_db(&room.ir, gain);
    let path = c.path();
    let reach = response_db(&room.ir[..path.len().min(room.ir.len())], gain);
    let est = response_db(&path, 1.0);
    let (howl, truth_db) = loudest(&truth);
    let (est_peak, est_peak_db) = loudest(&est);
    Learnt {
        howl_hz: howl as f32 * BIN_HZ,
        truth_db,
        reach_db: reach[howl],
        est_db: est[howl],
        est_peak_hz: est_peak as f32 * BIN_HZ,
        est_peak_db,
        truth_at_est_peak_db: truth[est_peak],
    }
}

/// Music with no loop into a shadow: the loudest its estimate of the loop got while it listened
/// (dB, Hz, s), read every 50 ms.
pub fn on_music(src: &[f32], mu: f32, floor: f32) -> (f32, f32, f32) {
    let mut c = shadow(mu, floor);
    let mut x = [0.0f32; BLOCK];
    let mut worst = (f32::MIN, 0.0, 0.0);
    let (mut pos, mut next_read) = (0, READ_EVERY);
    while pos + BLOCK <= src.len() {
        x.copy_from_slice(&src[pos..pos + BLOCK]);
        listen(&mut c, &x);
        pos += BLOCK;
        if pos >= next_read {
            next_read += READ_EVERY;
            let (k, db) = loudest(&response_db(&c.path(), 1.0));
            if db > worst.0 {
                worst = (db, k as f32 * BIN_HZ, pos as f32 / SR);
            }
        }
    }
    worst
}

/// With the loop's shape known (the room's response, as a ring-out could teach it), all that is
/// left to learn is its gain: a one-parameter fit, which can follow a step far faster than a
/// whole filter. The input and the shape's response to the output are whitened by the source
/// model (`afc::source_model`, refitted to the input every `REFIT` samples), and the gain is
/// their cross-correlation over the shape's own energy, both smoothed over `tau_s`.
///
/// With probe noise going out as well, `push_on` correlates both with the shape's response to
/// the probe alone instead (an instrument): the source does not correlate with the probe, so the
/// ratio is the loop's gain whatever the source, in a closed loop too, and only its spread is
/// left, which is what the probe's level buys.
pub struct ScalarFit {
    a: [f32; afc::ORDER + 1],
    window: Vec<f32>,
    sxz: f64,
    sdz: f64,
    smooth: f64,
}

/// How often `ScalarFit` refits its source model (samples: 10.7 ms, as the canceller).
const REFIT: usize = 512;

impl ScalarFit {
    pub fn new(tau_s: f32) -> Self {
        Self { a: afc::unit_filter(), window: afc::fit_window(), sxz: 0.0, sdz: 0.0, smooth: 1.0 / (tau_s as f64 * SR as f64) }
    }

    /// Takes sample `t` of the input `x` and of the shape's response to the output `d` (both
    /// from sample 0 on, at least `t + 1` long): the gain estimate after it.
    pub fn push(&mut self, x: &[f32], d: &[f32], t: usize) -> f32 {
        self.push_on(x, d, d, t)
    }

    /// As `push`, both correlated with `z` (the shape's response to the probe alone) instead of
    /// with `d`.
    pub fn push_on(&mut self, x: &[f32], d: &[f32], z: &[f32], t: usize) -> f32 {
        if t + 1 >= afc::FIT && (t + 1).is_multiple_of(REFIT) {
            self.a = afc::source_model(&x[t + 1 - afc::FIT..=t], &self.window).unwrap_or(self.a);
        }
        if t < afc::ORDER {
            return 0.0;
        }
        let (mut xw, mut dw, mut zw) = (0.0f64, 0.0f64, 0.0f64);
        for (j, &c) in self.a.iter().enumerate() {
            xw += c as f64 * x[t - j] as f64;
            dw += c as f64 * d[t - j] as f64;
            zw += c as f64 * z[t - j] as f64;
        }
        self.sxz += (xw * zw - self.sxz) * self.smooth;
        self.sdz += (dw * zw - self.sdz) * self.smooth;
        if self.sdz.abs() > 1e-20 {
            (self.sxz / self.sdz) as f32
        } else {
            0.0
        }
    }
}

/// The loop's loudest gain (dB) by a gain estimate: its size times `shape_peak`, the response's
/// loudest magnitude (`Room::peak_gain_db` as a factor).
fn loop_db(gain: f32, shape_peak: f32) -> f32 {
    20.0 * (gain.abs() * shape_peak).max(1e-9).log10()
}

/// What the gain fit made of a step (`scaled`).
#[derive(Debug, Clone, Copy)]
pub struct Scaled {
    /// The loop's loudest gain by the estimate (its gain times the shape's loudest), at its
    /// highest over the last second before the step (dB; the truth is −6).
    pub before_db: f32,
    /// From the step to that estimate first reaching 0 dB (ms; None: not within 0.3 s).
    pub alarm_ms: Option<f32>,
}

/// White probe noise at `probe_db` under `src`'s RMS level (dB), `n` samples; none for None.
fn probe(src: &[f32], probe_db: Option<f32>, n: usize) -> Vec<f32> {
    let Some(db) = probe_db else { return vec![0.0; n] };
    // Uniform on ±0.5: an RMS of 1/√12.
    let scale = 10f32.powf((super::rms_db(src) + db) / 20.0) * 12f32.sqrt();
    let mut seed = 0x5eed_9e0b;
    (0..n).map(|_| scale * (crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5)).collect()
}

/// The step of `step` (`over_db` over the response's MSG after two seconds 6 dB under it), no
/// suppressor, a `ScalarFit` over `tau_s` knowing the room's response. With `probe_db`, white
/// noise that much under the source's level goes out with the output, and the fit correlates
/// with the shape's response to it (`ScalarFit::push_on`).
pub fn scaled(room: &Room, src: &[f32], over_db: f32, tau_s: f32, probe_db: Option<f32>) -> Scaled {
    let (t0, gain_db) = super::step_gain(room, over_db);
    let shape_peak = 10f32.powf(room.peak_gain_db / 20.0);
    let frames = t0 + (0.3 * SR) as usize;
    let p = probe(src, probe_db, frames);
    let (mut x, mut d, mut z) = (vec![0.0f32; frames], vec![0.0f32; frames], vec![0.0f32; frames]);
    let (mut conv, mut conv_p) = (Convolver::new(&room.ir, BLOCK), Convolver::new(&room.ir, BLOCK));
    let mut fit = ScalarFit::new(tau_s);
    let (mut fb, mut fp, mut out) = ([0.0f32; BLOCK], [0.0f32; BLOCK], [0.0f32; BLOCK]);
    let (mut before_db, mut alarm_ms) = (f32::MIN, None);
    let mut pos = 0;
    while pos + BLOCK <= frames {
        conv.next(&mut fb);
        if probe_db.is_some() {
            conv_p.next(&mut fp);
        }
        let g = 10f32.powf(gain_db(pos) / 20.0);
        for (i, &f) in fb.iter().enumerate() {
            let t = pos + i;
            x[t] = src[t % src.len()] + g * f;
            d[t] = f;
            let gain = match probe_db {
                Some(_) => {
                    z[t] = fp[i];
                    fit.push_on(&x, &d, &z, t)
                }
                None => fit.push(&x, &d, t),
            };
            let loop_db = loop_db(gain, shape_peak);
            if t + SR as usize >= t0 && t < t0 {
                before_db = before_db.max(loop_db);
            }
            if t >= t0 && alarm_ms.is_none() && loop_db >= 0.0 {
                alarm_ms = Some((t - t0) as f32 / SR * 1000.0);
            }
            out[i] = x[t] + p[t];
        }
        conv.push(&out);
        if probe_db.is_some() {
            conv_p.push(&p[pos..pos + BLOCK]);
        }
        pos += BLOCK;
    }
    Scaled { before_db, alarm_ms }
}

/// Music with no loop, a `ScalarFit` over `tau_s` knowing `room`'s response (and with
/// `probe_db`, the probe going out as in `scaled`): the loudest the loop's gain got by its
/// estimate (dB), after its first 0.1 s.
pub fn scaled_on_music(room: &Room, src: &[f32], tau_s: f32, probe_db: Option<f32>) -> f32 {
    let shape_peak = 10f32.powf(room.peak_gain_db / 20.0);
    let frames = src.len() / BLOCK * BLOCK;
    let p = probe(src, probe_db, frames);
    let (mut d, mut z) = (vec![0.0f32; frames], vec![0.0f32; frames]);
    let (mut conv, mut conv_p) = (Convolver::new(&room.ir, BLOCK), Convolver::new(&room.ir, BLOCK));
    let mut fit = ScalarFit::new(tau_s);
    let (mut fb, mut fp, mut out) = ([0.0f32; BLOCK], [0.0f32; BLOCK], [0.0f32; BLOCK]);
    let mut worst = f32::MIN;
    let mut pos = 0;
    while pos + BLOCK <= frames {
        conv.next(&mut fb);
        if probe_db.is_some() {
            conv_p.next(&mut fp);
        }
        for (i, &f) in fb.iter().enumerate() {
            let t = pos + i;
            d[t] = f;
            let gain = match probe_db {
                Some(_) => {
                    z[t] = fp[i];
                    fit.push_on(src, &d, &z, t)
                }
                None => fit.push(src, &d, t),
            };
            if t as f32 >= 0.1 * SR {
                worst = worst.max(loop_db(gain, shape_peak));
            }
            out[i] = src[t] + p[t];
        }
        conv.push(&out);
        if probe_db.is_some() {
            conv_p.push(&p[pos..pos + BLOCK]);
        }
        pos += BLOCK;
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::xorshift32;

    /// An open path under white noise, the shadow learning with step `mu`: its misalignment
    /// (‖ĥ − h‖² over ‖h‖², dB) at 2, 4, 6 and 8 s, and its path at the end.
    fn learn_open_path(mu: f32) -> ([f32; 4], Vec<f32>) {
        let mut c = shadow(mu, 0.0003);
        let u = crate::howl::tests::white(8.0, 7);
        let n = u.len();
        let want = |i: usize| match i {
            300 => 0.5,
            500 => -0.25,
            _ => 0.0,
        };
        let misalignment_db = |ir: &[f32]| {
            let off: f32 = ir.iter().enumerate().map(|(i, a)| (a - want(i)) * (a - want(i))).sum();
            10.0 * (off / (0.5f32 * 0.5 + 0.25 * 0.25)).log10()
        };
        let (mut x, mut e) = ([0.0f32; BLOCK], [0.0f32; BLOCK]);
        let mut readings = Vec::new();
        for b in (0..n).step_by(BLOCK) {
            for i in 0..BLOCK {
                let t = b + i;
                let at = |lag: usize| if t >= lag { u[t - lag] } else { 0.0 };
                x[i] = 0.5 * at(300) - 0.25 * at(500);
                e[i] = c.cancel(i, x[i]);
            }
            c.urge();
            c.feed(&x, &e, &u[b..b + BLOCK]);
            if (b + BLOCK).is_multiple_of(2 * SR as usize) {
                readings.push(misalignment_db(&c.path()));
            }
        }
        eprintln!("step {mu}: misalignment at 2, 4, 6, 8 s: {readings:.1?} dB");
        (readings.try_into().expect("four readings"), c.path())
    }

    /// With the path open and white noise going out (nothing else coming in), the shadow learns
    /// the path as an NLMS filter does with no noise: with the canceller's step its
    /// misalignment falls exponentially, as many dB from 2 to 4 s as from 4 to 6 s, to the
    /// taps themselves, 0.5·z^-300 − 0.25·z^-500, and to their response's formula at its
    /// loudest and quietest (|0.5 ± 0.25|: −2.5 and −12.0 dB). A larger step learns faster.
    /// (`--nocapture` prints the rates docs/benchmarks.md quotes.)
    #[test]
    fn an_open_path_under_white_noise_is_learnt() {
        let ([at2, at4, at6, at8], ir) = learn_open_path(0.35);
        let (first, second) = (at2 - at4, at4 - at6);
        assert!(first > 10.0 && (first - second).abs() < 0.1 * first, "misalignment at 2, 4, 6 s: {at2:.1}, {at4:.1}, {at6:.1} dB");
        assert!(at8 < -55.0, "misalignment at 8 s: {at8:.1} dB");
        assert!((ir[300] - 0.5).abs() < 0.005 && (ir[500] + 0.25).abs() < 0.005, "taps {} and {}", ir[300], ir[500]);
        let db = response_db(&ir, 1.0);
        let (_, top) = loudest(&db);
        let bottom = db[(LOW_HZ * FFT as f32 / SR) as usize..(HIGH_HZ * FFT as f32 / SR) as usize].iter().copied().fold(f32::MAX, f32::min);
        let (want_top, want_bottom) = (20.0 * 0.75f32.log10(), 20.0 * 0.25f32.log10());
        assert!((top - want_top).abs() < 0.1, "loudest {top:.2} dB, want {want_top:.2}");
        assert!((bottom - want_bottom).abs() < 0.1, "quietest {bottom:.2} dB, want {want_bottom:.2}");
        let ([fast2, ..], _) = learn_open_path(1.0);
        assert!(fast2 < at2 - 10.0, "step 1.0 at 2 s: {fast2:.1} dB, step 0.35: {at2:.1} dB");
    }

    /// Open loop, white noise out, the input the path's response at gain `g` plus an unrelated
    /// white source 20 dB under it: the gain fit is unbiased (within 2 % of g = 0.3), and after
    /// the gain steps to 1.2 it follows the first-order smoothing it is, reaching
    /// 1.2 − 0.9·e^(−t/τ) at t = τ and 3τ (within 3 %).
    #[test]
    fn the_gain_fit_follows_a_step_as_its_smoothing_says() {
        let tau = 0.1f32;
        let mut fit = ScalarFit::new(tau);
        let mut seed = 11u32;
        let mut white = || xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5;
        let (t0, n) = ((2.0 * SR) as usize, (2.0 * SR + 4.0 * tau * SR) as usize);
        let u: Vec<f32> = (0..n).map(|_| white()).collect();
        let d: Vec<f32> = (0..n).map(|t| if t >= 300 { u[t - 300] } else { 0.0 }).collect();
        let mut x = vec![0.0f32; n];
        let mut at = Vec::new();
        for t in 0..n {
            let g = if t < t0 { 0.3 } else { 1.2 };
            x[t] = g * d[t] + 0.1 * 0.3 * white();
            let a = fit.push(&x, &d, t);
            if t + 1 == t0 || t + 1 == t0 + (tau * SR) as usize || t + 1 == t0 + (3.0 * tau * SR) as usize {
                at.push(a);
            }
        }
        let [before, one, three]: [f32; 3] = at.try_into().expect("three readings");
        assert!((before - 0.3).abs() < 0.02 * 0.3, "before the step: {before}");
        for (got, k) in [(one, 1.0f32), (three, 3.0)] {
            let want = 1.2 - 0.9 * (-k).exp();
            assert!((got - want).abs() < 0.03 * want, "{k}τ after the step: {got}, want {want}");
        }
    }

    /// The fit correlated with a probe (`push_on`), against theory. Open path, the input white
    /// noise plus the probe's response at gain g: the estimate's spread is the ratio of the two
    /// levels over √(2τ·fs), the length of its smoothing (within 15 %). Closed loop, a source
    /// that echoes itself at the loop's first delay (its own past there, which no short source
    /// model whitens, looks like the loop), the probe 10 dB under it: correlated with the probe,
    /// the gain comes out unbiased (within 5 %) where correlated with the output it does not.
    #[test]
    fn the_probe_keeps_the_gain_fit_unbiased_and_its_spread_is_as_theory_says() {
        let (g, tau) = (0.8f32, 0.02f32);
        let n = (10.0 * SR) as usize;
        let (src, p) = (crate::howl::tests::white(10.0, 5), crate::howl::tests::white(10.0, 9));
        let (src_rms, p_rms) = (1.0 / 12f32.sqrt(), 0.3 / 12f32.sqrt());
        let z: Vec<f32> = p.iter().map(|v| 0.3 * v).collect();
        let x: Vec<f32> = (0..n).map(|t| src[t] + g * z[t]).collect();
        let mut fit = ScalarFit::new(tau);
        let (mut sum, mut sum2, mut count) = (0.0f64, 0.0f64, 0.0f64);
        for t in 0..n {
            let a = fit.push_on(&x, &z, &z, t) as f64;
            if t as f32 > 0.5 * SR {
                (sum, sum2, count) = (sum + a, sum2 + a * a, count + 1.0);
            }
        }
        let (mean, spread) = (sum / count, (sum2 / count - (sum / count).powi(2)).sqrt());
        let want = (src_rms / p_rms) as f64 / (2.0 * tau as f64 * SR as f64).sqrt();
        eprintln!("open path: mean {mean:.3} (g {g}), spread {spread:.3}, theory {want:.3}");
        assert!((mean - g as f64).abs() < 0.05, "mean {mean}");
        assert!((spread / want - 1.0).abs() < 0.15, "spread {spread:.4}, theory {want:.4}");

        // The closed loop: 0.5·z^-300 − 0.25·z^-500 at gain g (loudest 0.6, stable).
        let h = |v: &[f32], t: usize| {
            if t >= 500 {
                0.5 * v[t - 300] - 0.25 * v[t - 500]
            } else if t >= 300 {
                0.5 * v[t - 300]
            } else {
                0.0
            }
        };
        let w = crate::howl::tests::white(10.0, 21);
        let tone: Vec<f32> = (0..n).map(|t| w[t] + if t >= 300 { 0.6 * w[t - 300] } else { 0.0 }).collect();
        let p: Vec<f32> = p.iter().map(|v| 0.36 * v).collect();
        let (mut x, mut out, mut d, mut z) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
        let (mut on_probe, mut on_output) = (ScalarFit::new(2.0), ScalarFit::new(2.0));
        let (mut iv, mut plain) = (0.0, 0.0);
        for t in 0..n {
            d[t] = h(&out, t);
            z[t] = h(&p, t);
            x[t] = tone[t] + g * d[t];
            out[t] = x[t] + p[t];
            iv = on_probe.push_on(&x, &d, &z, t);
            plain = on_output.push(&x, &d, t);
        }
        let under_db = super::super::rms_db(&p) - super::super::rms_db(&tone);
        eprintln!("closed loop, probe {under_db:.1} dB: on the probe {iv:.3}, on the output {plain:.3} (g {g})");
        assert!((iv - g).abs() < 0.05 * g, "on the probe: {iv}");
        assert!((plain - g).abs() > 0.1 * g, "on the output: {plain}");
    }
}
