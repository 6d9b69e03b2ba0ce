//! The real-time loudness meter (EBU R128 / ITU-R BS.1770-4, EBU Tech 3341 and 3342): momentary
//! (400 ms), short-term (3 s), integrated (gated) loudness and loudness range.
//!
//! The audio thread K-weights the output, sums squares over 100 ms hops, and per hop publishes
//! momentary and short-term loudness and adds one entry to each of two histograms (0.01 LU bins):
//! the 400 ms blocks for the integrated loudness, the short-term values for the loudness range.
//! Histogram bins are atomics, so the editor computes the gated results at any time without a lock
//! and without the audio thread ever scanning them; the measurement keeps running while the
//! editor is closed, as a programme's integrated loudness must.

use super::loudness::lufs;
use crate::dsp::kweight::KWeightingStereo;
use atomic_float::{AtomicF32, AtomicF64};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::dsp::MAX_CH;
/// Histogram range: the absolute gate (−70 LUFS) up to +10 LUFS, in 0.01 LU bins.
const FLOOR_LUFS: f64 = -70.0;
const BIN_LU: f64 = 0.01;
const BINS: usize = 8_000;
const MOMENTARY_HOPS: usize = 4;
const SHORT_TERM_HOPS: usize = 30;

/// Loudness values of blocks, with each bin's count and the exact sum of its blocks' powers (so
/// means are exact; only gate decisions are made at the bins' 0.01 LU resolution).
#[derive(Debug)]
pub struct Histogram {
    counts: Box<[AtomicU32]>,
    powers: Box<[AtomicF64]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Self { counts: (0..BINS).map(|_| AtomicU32::new(0)).collect(), powers: (0..BINS).map(|_| AtomicF64::new(0.0)).collect() }
    }
}

impl Histogram {
    /// Adds a block of mean-square `power`; blocks at or below the absolute gate are not kept.
    #[inline]
    fn add(&self, power: f64) {
        let l = lufs(power);
        if !(l > FLOOR_LUFS) {
            return;
        }
        let bin = (((l - FLOOR_LUFS) / BIN_LU) as usize).min(BINS - 1);
        self.counts[bin].fetch_add(1, Ordering::Relaxed);
        self.powers[bin].fetch_add(power, Ordering::Relaxed);
    }

    fn clear(&self) {
        for (c, p) in self.counts.iter().zip(self.powers.iter()) {
            c.store(0, Ordering::Relaxed);
            p.store(0.0, Ordering::Relaxed);
        }
    }

    fn snapshot(&self) -> Vec<(u32, f64)> {
        self.counts.iter().zip(self.powers.iter()).map(|(c, p)| (c.load(Ordering::Relaxed), p.load(Ordering::Relaxed))).collect()
    }

    /// The first bin at or above `gate_lufs`.
    fn bin_of(gate_lufs: f64) -> usize {
        (((gate_lufs - FLOOR_LUFS) / BIN_LU).ceil().max(0.0) as usize).min(BINS)
    }

    fn lower_edge(bin: usize) -> f64 {
        FLOOR_LUFS + bin as f64 * BIN_LU
    }

    /// Power mean of the blocks in `bins[from..]`, and how many there are.
    fn mean(bins: &[(u32, f64)], from: usize) -> Option<(f64, u64)> {
        let (n, sum) = bins[from.min(BINS)..].iter().fold((0u64, 0.0), |(n, s), &(c, p)| (n + c as u64, s + p));
        (n > 0).then(|| (sum / n as f64, n))
    }
}

/// What the audio thread publishes and the editor reads.
#[derive(Debug)]
pub struct LoudnessShared {
    pub momentary: AtomicF32,
    pub short_term: AtomicF32,
    pub momentary_max: AtomicF32,
    pub short_term_max: AtomicF32,
    /// Largest true peak (linear) per channel: raised by the output meters
    /// (`analysis::meters`), part of the same programme measurement, so cleared by `reset`.
    pub true_peak: [AtomicF32; MAX_CH],
    gating: Histogram,
    range: Histogram,
}

impl Default for LoudnessShared {
    fn default() -> Self {
        Self {
            momentary: AtomicF32::new(f32::NEG_INFINITY),
            short_term: AtomicF32::new(f32::NEG_INFINITY),
            momentary_max: AtomicF32::new(f32::NEG_INFINITY),
            short_term_max: AtomicF32::new(f32::NEG_INFINITY),
            true_peak: Default::default(),
            gating: Histogram::default(),
            range: Histogram::default(),
        }
    }
}

impl LoudnessShared {
    /// Integrated loudness (LUFS) of everything since the last reset: blocks above −70 LUFS,
    /// then above the relative gate 10 LU under their mean. None until a block passes the gates.
    pub fn integrated(&self) -> Option<f64> {
        let bins = self.gating.snapshot();
        let (mean, _) = Histogram::mean(&bins, 0)?;
        let gate = lufs(mean) - 10.0;
        Histogram::mean(&bins, Histogram::bin_of(gate)).map(|(m, _)| lufs(m))
    }

    /// Loudness range (LU, EBU Tech 3342): the spread between the 10th and 95th percentiles of
    /// the short-term values above −70 LUFS and above the relative gate 20 LU under their mean.
    pub fn range(&self) -> Option<f64> {
        let bins = self.range.snapshot();
        let (mean, _) = Histogram::mean(&bins, 0)?;
        let from = Histogram::bin_of(lufs(mean) - 20.0);
        let (_, n) = Histogram::mean(&bins, from)?;
        let percentile = |q: f64| {
            // Nearest rank: the value below which a fraction q of the gated values lie.
            let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
            let mut seen = 0u64;
            for (i, &(c, _)) in bins.iter().enumerate().skip(from) {
                seen += c as u64;
                if seen >= rank {
                    return Histogram::lower_edge(i) + 0.5 * BIN_LU;
                }
            }
            Histogram::lower_edge(BINS)
        };
        Some(percentile(0.95) - percentile(0.10))
    }

    /// Starts a new measurement of integrated loudness, range and maxima (the reset button).
    /// Momentary and short-term go on: they are windows over the signal, not accumulations.
    pub fn reset(&self) {
        self.gating.clear();
        self.range.clear();
        self.momentary_max.store(f32::NEG_INFINITY, Ordering::Relaxed);
        self.short_term_max.store(f32::NEG_INFINITY, Ordering::Relaxed);
        for tp in &self.true_peak {
            tp.store(0.0, Ordering::Relaxed);
        }
    }

    /// The largest true peak (linear) of any channel since the last reset.
    pub fn true_peak_max(&self) -> f32 {
        self.true_peak.iter().fold(0.0, |m, tp| m.max(tp.load(Ordering::Relaxed)))
    }
}

/// Audio-thread side.
#[derive(Debug, Clone)]
pub struct LoudnessMeter {
    /// Both channels' K-weighting in one pair of lanes (a mono signal leaves lane 1 silent).
    kw: KWeightingStereo,
    hop_len: usize,
    pos: usize,
    acc: f64,
    hops: [f64; SHORT_TERM_HOPS],
    next: usize,
    /// Hops seen since the last reset, saturating: blocks count only once they are full.
    seen: usize,
}

impl Default for LoudnessMeter {
    fn default() -> Self {
        Self::new(48_000.0)
    }
}

impl LoudnessMeter {
    pub fn new(sample_rate: f64) -> Self {
        Self {
            kw: KWeightingStereo::new(sample_rate),
            hop_len: ((sample_rate * 0.1).round() as usize).max(1),
            pos: 0,
            acc: 0.0,
            hops: [0.0; SHORT_TERM_HOPS],
            next: 0,
            seen: 0,
        }
    }

    pub fn reset(&mut self) {
        self.kw.reset();
        self.pos = 0;
        self.acc = 0.0;
        self.hops = [0.0; SHORT_TERM_HOPS];
        self.next = 0;
        self.seen = 0;
    }

    /// Feeds a block of one or two channels (all the same length).
    pub fn process(&mut self, channels: &[&[f32]], shared: &LoudnessShared) {
        let len = channels.first().map_or(0, |c| c.len());
        let n_ch = channels.len().min(MAX_CH);
        let mut i = 0;
        while i < len {
            let take = (self.hop_len - self.pos).min(len - i);
            // Both channels side by side; each lane's sum is the one channel's, added to the
            // total channel by channel.
            let mut acc = wide::f64x2::ZERO;
            if n_ch > 1 {
                for (&l, &r) in channels[0][i..i + take].iter().zip(&channels[1][i..i + take]) {
                    let y = self.kw.tick(wide::f64x2::new([l as f64, r as f64]));
                    acc += y * y;
                }
            } else {
                for &m in &channels[0][i..i + take] {
                    let y = self.kw.tick(wide::f64x2::new([m as f64, 0.0]));
                    acc += y * y;
                }
            }
            for &a in &acc.to_array()[..n_ch] {
                self.acc += a;
            }
            // The K-weighting filters' state decays into subnormals in silence: keep it out.
            self.kw.flush_tiny();
            self.pos += take;
            i += take;
            if self.pos == self.hop_len {
                self.end_hop(shared);
            }
        }
    }

    fn end_hop(&mut self, shared: &LoudnessShared) {
        self.hops[self.next] = self.acc / self.hop_len as f64;
        self.next = (self.next + 1) % SHORT_TERM_HOPS;
        self.acc = 0.0;
        self.pos = 0;
        self.seen = (self.seen + 1).min(SHORT_TERM_HOPS);
        let last = |k: usize| (1..=k).map(|j| self.hops[(self.next + SHORT_TERM_HOPS - j) % SHORT_TERM_HOPS]).sum::<f64>() / k as f64;
        let m = last(MOMENTARY_HOPS);
        let s = last(SHORT_TERM_HOPS);
        shared.momentary.store(lufs(m) as f32, Ordering::Relaxed);
        shared.short_term.store(lufs(s) as f32, Ordering::Relaxed);
        if self.seen >= MOMENTARY_HOPS {
            shared.gating.add(m);
            shared.momentary_max.fetch_max(lufs(m) as f32, Ordering::Relaxed);
        }
        if self.seen >= SHORT_TERM_HOPS {
            shared.range.add(s);
            shared.short_term_max.fetch_max(lufs(s) as f32, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(secs: f64, db: f64, sr: f64, phase: &mut f64) -> Vec<f32> {
        let amp = 10f64.powf(db / 20.0);
        (0..(secs * sr).round() as usize)
            .map(|_| {
                let y = amp * phase.sin();
                *phase += std::f64::consts::TAU * 1000.0 / sr;
                y as f32
            })
            .collect()
    }

    /// Runs a sequence of (seconds, dBFS) 1 kHz stereo sine segments through the meter in
    /// uneven blocks, and returns the shared results.
    fn measure(parts: &[(f64, f64)], sr: f64) -> LoudnessShared {
        let shared = LoudnessShared::default();
        let mut meter = LoudnessMeter::new(sr);
        let mut phase = 0.0;
        let x: Vec<f32> = parts.iter().flat_map(|&(s, db)| sine(s, db, sr, &mut phase)).collect();
        let mut i = 0;
        let mut n = 3;
        while i < x.len() {
            let end = (i + n).min(x.len());
            meter.process(&[&x[i..end], &x[i..end]], &shared);
            i = end;
            n = n * 13 % 2047 + 1;
        }
        shared
    }

    fn near(got: Option<f64>, want: f64, tol: f64, what: &str) {
        let got = got.unwrap_or_else(|| panic!("{what}: no value"));
        eprintln!("{what}: {got:.3} (expected {want} ± {tol})");
        assert!((got - want).abs() <= tol, "{what}: {got:.3}, want {want} ± {tol}");
    }

    // EBU Tech 3341, the cases made of 1 kHz stereo sines (tolerance ±0.1 LU).
    #[test]
    fn tech3341_cases_1_to_5_integrated() {
        let cases: [(&[(f64, f64)], f64); 5] = [
            (&[(20.0, -23.0)], -23.0),
            (&[(20.0, -33.0)], -33.0),
            (&[(10.0, -36.0), (60.0, -23.0), (10.0, -36.0)], -23.0),
            (&[(10.0, -72.0), (10.0, -36.0), (60.0, -23.0), (10.0, -36.0), (10.0, -72.0)], -23.0),
            (&[(20.0, -26.0), (20.1, -20.0), (20.0, -26.0)], -23.0),
        ];
        for sr in [48_000.0, 44_100.0] {
            for (i, (parts, want)) in cases.iter().enumerate() {
                near(measure(parts, sr).integrated(), *want, 0.1, &format!("case {} at {sr}", i + 1));
            }
        }
    }

    #[test]
    fn tech3341_momentary_and_short_term_of_a_steady_sine() {
        // Cases 9 and 12 in spirit: a steady −23 dBFS stereo sine reads −23.0 ± 0.1 on M and S
        // once their windows are full, and their maxima are the same.
        let s = measure(&[(5.0, -23.0)], 48_000.0);
        near(Some(s.momentary.load(Ordering::Relaxed) as f64), -23.0, 0.1, "M");
        near(Some(s.short_term.load(Ordering::Relaxed) as f64), -23.0, 0.1, "S");
        near(Some(s.momentary_max.load(Ordering::Relaxed) as f64), -23.0, 0.1, "max M");
        near(Some(s.short_term_max.load(Ordering::Relaxed) as f64), -23.0, 0.1, "max S");
    }

    #[test]
    fn momentary_window_is_400_ms() {
        // A 200 ms burst at −20 dBFS in silence: the momentary maximum is the burst's loudness
        // spread over 400 ms, 3 dB under the steady value; the short-term maximum, 3 s: 11.76 dB.
        let steady = measure(&[(5.0, -20.0)], 48_000.0).momentary.load(Ordering::Relaxed) as f64;
        let s = measure(&[(4.0, -120.0), (0.2, -20.0), (4.0, -120.0)], 48_000.0);
        near(Some(s.momentary_max.load(Ordering::Relaxed) as f64), steady - 10.0 * 2f64.log10(), 0.05, "max M");
        near(Some(s.short_term_max.load(Ordering::Relaxed) as f64), steady - 10.0 * 15f64.log10(), 0.05, "max S");
    }

    // EBU Tech 3342, loudness range cases 1 to 4 (tolerance ±1 LU).
    #[test]
    fn tech3342_cases_1_to_4_loudness_range() {
        let cases: [(&[(f64, f64)], f64); 4] = [
            (&[(20.0, -20.0), (20.0, -30.0)], 10.0),
            (&[(20.0, -20.0), (20.0, -15.0)], 5.0),
            (&[(20.0, -40.0), (20.0, -20.0)], 20.0),
            (&[(20.0, -50.0), (20.0, -35.0), (20.0, -20.0), (20.0, -35.0), (20.0, -50.0)], 15.0),
        ];
        for (i, (parts, want)) in cases.iter().enumerate() {
            near(measure(parts, 48_000.0).range(), *want, 1.0, &format!("3342 case {}", i + 1));
        }
    }

    #[test]
    fn agrees_with_the_offline_integrated_loudness() {
        // Speech-like: the sine gated on and off at syllable rate, with level changes.
        let sr = 48_000.0;
        let mut phase = 0.0;
        let x: Vec<f32> = sine(30.0, -18.0, sr, &mut phase)
            .iter()
            .enumerate()
            .map(|(i, &v)| v * if (i / 9_000) % 3 == 0 { 0.0 } else { 1.0 + 0.6 * ((i / 48_000) % 4) as f32 })
            .collect();
        let offline = super::super::loudness::integrated(&[&x, &x], sr).unwrap();
        let shared = LoudnessShared::default();
        let mut meter = LoudnessMeter::new(sr);
        for c in x.chunks(333) {
            meter.process(&[c, c], &shared);
        }
        near(shared.integrated(), offline, 0.01, "real-time vs offline");
    }

    #[test]
    fn reset_starts_a_new_measurement_and_silence_reads_nothing() {
        let s = measure(&[(10.0, -23.0)], 48_000.0);
        s.true_peak[1].store(0.5, Ordering::Relaxed);
        assert_eq!(s.true_peak_max(), 0.5);
        s.reset();
        assert_eq!(s.true_peak_max(), 0.0);
        assert_eq!(s.integrated(), None);
        assert_eq!(s.range(), None);
        assert_eq!(s.momentary_max.load(Ordering::Relaxed), f32::NEG_INFINITY);
        assert_eq!(measure(&[(5.0, -100.0)], 48_000.0).integrated(), None);
    }
}
