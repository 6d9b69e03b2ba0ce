//! Round-trip latency from a probe and its recording: a maximum-length sequence (MLS) played in a
//! loop, recorded, and located by circular cross-correlation (realfft), with a parabolic fit of
//! the correlation peak for the sub-sample part.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

/// One period of a maximum-length sequence of `order` (period 2^order − 1), as ±`amplitude`.
/// Its circular autocorrelation is a single spike, which is what makes the peak unambiguous.
pub fn mls(order: u32, amplitude: f32) -> Vec<f32> {
    // Primitive trinomial/pentanomial taps (Fibonacci LFSR), one per supported order.
    let taps: &[u32] = match order {
        10 => &[10, 7],
        12 => &[12, 11, 10, 4],
        13 => &[13, 12, 11, 8],
        14 => &[14, 13, 12, 2],
        15 => &[15, 14],
        16 => &[16, 15, 13, 4],
        _ => panic!("MLS order {order} is not supported (10 and 12 to 16 are)"),
    };
    let period = (1usize << order) - 1;
    let mut state: u32 = 1;
    (0..period)
        .map(|_| {
            let bit = taps.iter().fold(0, |acc, &t| acc ^ (state >> (order - t)) & 1);
            let out = state & 1;
            state = (state >> 1) | (bit << (order - 1));
            if out == 1 {
                amplitude
            } else {
                -amplitude
            }
        })
        .collect()
}

/// A located delay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The delay in samples, with the sub-sample part.
    pub samples: f64,
    /// Peak over the RMS of the rest of the correlation: far above 10 when a real copy of the
    /// probe came back, near 3–5 for noise.
    pub confidence: f64,
}

/// The smallest confidence that counts as "the probe came back".
pub const MIN_CONFIDENCE: f64 = 20.0;

/// Prepared correlator for one probe period: FFT plans and buffers made once.
pub struct Correlator {
    n: usize,
    probe_spectrum: Vec<Complex<f64>>,
    fft: std::sync::Arc<dyn realfft::RealToComplex<f64>>,
    ifft: std::sync::Arc<dyn realfft::ComplexToReal<f64>>,
}

impl Correlator {
    pub fn new(probe: &[f32]) -> Self {
        let n = probe.len();
        let mut planner = RealFftPlanner::<f64>::new();
        let fft = planner.plan_fft_forward(n);
        let ifft = planner.plan_fft_inverse(n);
        let mut input: Vec<f64> = probe.iter().map(|&x| x as f64).collect();
        let mut probe_spectrum = fft.make_output_vec();
        fft.process(&mut input, &mut probe_spectrum).expect("sizes match");
        Self { n, probe_spectrum, fft, ifft }
    }

    /// Finds the circular lag of `window` (one probe period of recording, starting at recording
    /// sample `start`) against the probe, and turns it into the delay.
    pub fn locate(&self, window: &[f32], start: usize) -> Estimate {
        assert_eq!(window.len(), self.n);
        let mut input: Vec<f64> = window.iter().map(|&x| x as f64).collect();
        let mut spec = self.fft.make_output_vec();
        self.fft.process(&mut input, &mut spec).expect("sizes match");
        // Cross-spectrum: recording × conj(probe) gives corr[k] = Σ rec[m + k] · probe[m].
        for (s, p) in spec.iter_mut().zip(&self.probe_spectrum) {
            *s *= p.conj();
        }
        // A real signal's spectrum has real DC and Nyquist bins; keep them exactly real.
        spec[0].im = 0.0;
        if self.n.is_multiple_of(2) {
            let last = spec.len() - 1;
            spec[last].im = 0.0;
        }
        let cross = spec.clone();
        let mut corr = self.ifft.make_output_vec();
        self.ifft.process(&mut spec, &mut corr).expect("sizes match");
        let (k, &peak) = corr.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).expect("non-empty");
        let n = self.n;
        let at = |i: isize| corr[i.rem_euclid(n as isize) as usize];
        let (ym, y0, yp) = (at(k as isize - 1), at(k as isize), at(k as isize + 1));
        let denom = ym - 2.0 * y0 + yp;
        let parabola = if denom.abs() > 1e-12 { 0.5 * (ym - yp) / denom } else { 0.0 };
        // The loop is band-limited (converters, or a digital path), so the correlation between
        // samples is the band-limited interpolation of the cross-spectrum: search its maximum
        // between the neighbours, starting from the parabola's guess.
        let sign = peak.signum();
        let value_at = |tau: f64| -> f64 {
            let w = std::f64::consts::TAU * tau / n as f64;
            let mut acc = cross[0].re;
            for (j, c) in cross.iter().enumerate().skip(1) {
                let (s, co) = (w * j as f64).sin_cos();
                let term = c.re * co - c.im * s;
                acc += if n.is_multiple_of(2) && j == cross.len() - 1 { term } else { 2.0 * term };
            }
            sign * acc
        };
        let frac = golden_max(&value_at, k as f64 + parabola.clamp(-0.5, 0.5) - 0.5, k as f64 + parabola.clamp(-0.5, 0.5) + 0.5) - k as f64;
        let rest = (corr.iter().map(|c| c * c).sum::<f64>() - peak * peak) / (n - 1) as f64;
        let confidence = peak.abs() / rest.max(1e-30).sqrt();
        // corr peaks at k where window[m + k] = rec[start + m + k] ≈ probe[m]; the recording is
        // rec[i] = probe[i − delay], so start + k − delay ≡ 0: delay = (start + k) mod n.
        let lag = k as f64 + frac.clamp(-0.5, 0.5);
        let delay = (start as f64 + lag).rem_euclid(n as f64);
        Estimate { samples: delay, confidence }
    }
}

/// The maximum of a unimodal `f` on [a, b] by golden-section search, to 1e-4.
fn golden_max(f: &dyn Fn(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    while b - a > 1e-4 {
        if fc > fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    0.5 * (a + b)
}

/// Median and spread (max − min) of a set of estimates, in samples.
pub fn summarize(samples: &[f64]) -> (f64, f64) {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 { v[v.len() / 2] } else { 0.5 * (v[v.len() / 2 - 1] + v[v.len() / 2]) };
    (median, v.last().unwrap_or(&0.0) - v.first().unwrap_or(&0.0))
}

/// How far apart (ms) a measurement's runs may be and still have measured one loop: a fixed loop
/// gives the same delay run after run to a fraction of a sample (the same buffers every time), so
/// runs further apart mean its delay changed mid-measurement.
pub const AGREE_MS: f64 = 0.5;

/// What a measurement whose runs spread `spread` samples at `rate` Hz should say: nothing when
/// they agree, else that its median is not the loop's delay, why that happens and what to do.
pub fn disagreement(spread: f64, rate: u32) -> Option<String> {
    let ms = spread * 1000.0 / rate as f64;
    (ms >= AGREE_MS).then(|| {
        format!(
            "warning: the runs disagree by {spread:.1} samples ({ms:.2} ms, more than {AGREE_MS} ms): the loop's delay \
             changed during the measurement (a dropout, or a sound server changing its buffering), so the median is \
             not the loop's delay; measure again, or at a larger buffer size (`livechain sweep` finds the smallest \
             that runs cleanly)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs that agree to a fraction of a millisecond say nothing; half a millisecond apart (24
    /// samples at 48 kHz, 22.05 at 44.1) they are called out, with the figures.
    #[test]
    fn runs_that_disagree_are_called_out() {
        assert_eq!(disagreement(0.0, 48_000), None);
        assert_eq!(disagreement(23.9, 48_000), None);
        let said = disagreement(24.0, 48_000).expect("24 samples at 48 kHz is 0.5 ms");
        assert!(said.contains("24.0 samples (0.50 ms"), "{said}");
        assert_eq!(disagreement(22.0, 44_100), None);
        assert!(disagreement(22.05, 44_100).is_some());
        assert!(disagreement(829.0, 48_000).unwrap().contains("17.27 ms"));
    }

    #[test]
    fn mls_has_a_single_spike_autocorrelation() {
        for order in [10, 12, 13, 14, 15, 16] {
            let m = mls(order, 1.0);
            let n = m.len();
            assert_eq!(n, (1 << order) - 1);
            // Balanced: one more +1 than −1.
            assert_eq!(m.iter().filter(|&&x| x > 0.0).count(), n / 2 + 1, "order {order}");
            for lag in [1usize, 2, 7, n / 3] {
                let c: f32 = (0..n).map(|i| m[i] * m[(i + lag) % n]).sum();
                assert_eq!(c, -1.0, "order {order}, lag {lag}: an MLS's off-peak correlation is −1");
            }
        }
    }

    #[test]
    fn integer_and_fractional_delays_are_found() {
        let probe = mls(14, 0.5);
        let n = probe.len();
        let corr = Correlator::new(&probe);
        for delay in [0usize, 1, 64, 127, 1000, 5_000] {
            // The recording of a looped probe delayed by `delay`, windowed at an arbitrary start.
            let rec: Vec<f32> = (0..3 * n).map(|i| if i >= delay { probe[(i - delay) % n] } else { 0.0 }).collect();
            let start = n + 333;
            let e = corr.locate(&rec[start..start + n], start);
            assert!((e.samples - delay as f64).abs() < 1e-3, "delay {delay}: {e:?}");
            assert!(e.confidence > 100.0);
        }
        // Fractional delays, made ideally band-limited (a phase shift of the periodic probe's
        // spectrum), as a real converter loop is: found to ±0.01 sample.
        let mut planner = RealFftPlanner::<f64>::new();
        let fwd = planner.plan_fft_forward(n);
        let inv = planner.plan_fft_inverse(n);
        for d in [10.25f64, 10.5, 200.75, 3.1] {
            let mut x: Vec<f64> = probe.iter().map(|&v| v as f64).collect();
            let mut spec = fwd.make_output_vec();
            fwd.process(&mut x, &mut spec).unwrap();
            for (j, c) in spec.iter_mut().enumerate() {
                *c *= Complex::from_polar(1.0 / n as f64, -std::f64::consts::TAU * j as f64 * d / n as f64);
            }
            spec[0].im = 0.0;
            let mut shifted = inv.make_output_vec();
            inv.process(&mut spec, &mut shifted).unwrap();
            let rec: Vec<f32> = (0..2 * n).map(|i| shifted[i % n] as f32).collect();
            let e = corr.locate(&rec[n..2 * n], n);
            assert!((e.samples - d).abs() < 0.01, "fractional {d}: {}", e.samples);
        }
    }

    #[test]
    fn noise_alone_is_not_mistaken_for_the_probe() {
        let probe = mls(13, 0.5);
        let corr = Correlator::new(&probe);
        let mut s = 99u32;
        let noise: Vec<f32> = (0..probe.len()).map(|_| crate::dsp::xorshift32(&mut s) as f32 / u32::MAX as f32 - 0.5).collect();
        assert!(corr.locate(&noise, 0).confidence < MIN_CONFIDENCE);
    }
}
