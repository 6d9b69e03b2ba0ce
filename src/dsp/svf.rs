//! High-pass and low-pass filters built from Simper's trapezoidal state-variable filter.
//!
//! The SVF is the bilinear transform of the analog 2-pole with the cutoff pre-warped, so its
//! response is exactly the analog prototype's at Ω = tan(πf/fs) / tan(πfc/fs). Unlike a
//! direct-form biquad it stays well-behaved when its cutoff moves every sample.

use wide::f32x4;

/// Filter steepness: one 2-pole Butterworth section, or two cascaded for a 4th-order Butterworth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slope {
    Db12,
    Db24,
}

impl Slope {
    /// The Q of each cascaded section of the Butterworth response.
    pub fn section_qs(self) -> &'static [f64] {
        match self {
            Slope::Db12 => &[std::f64::consts::FRAC_1_SQRT_2],
            // 1 / (2 cos(π/8)) and 1 / (2 cos(3π/8))
            Slope::Db24 => &[0.541_196_100_146_197, 1.306_562_964_876_376_8],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    LowPass,
    HighPass,
}

/// The highest cutoff used, as a fraction of the sample rate: above this tan() blows up. A 20 kHz
/// setting at 8 kHz sample rate becomes 3.92 kHz.
pub const MAX_CUTOFF_RATIO: f64 = 0.49;

#[derive(Debug, Clone, Copy, Default)]
struct Coefs {
    k: f32,
    a1: f32,
    a2: f32,
    a3: f32,
}

impl Coefs {
    fn new(g: f64, q: f64) -> Self {
        let k = 1.0 / q;
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        let a3 = g * a2;
        Self { k: k as f32, a1: a1 as f32, a2: a2 as f32, a3: a3 as f32 }
    }
}

/// One section's integrator states, one lane per channel (lanes past MAX_CH stay zero), so a
/// stereo frame runs both channels in one SIMD pass.
#[derive(Debug, Clone, Copy, Default)]
struct State {
    ic1: f32x4,
    ic2: f32x4,
}

/// A Butterworth high- or low-pass of 12 or 24 dB/octave for up to two channels.
#[derive(Debug, Clone)]
pub struct Filter {
    mode: Mode,
    slope: Slope,
    sample_rate: f64,
    cutoff: f32,
    coefs: [Coefs; 2],
    /// The same coefficients splatted to four lanes (k, a1, a2, a3), for `tick_frame`.
    lanes: [[f32x4; 4]; 2],
    /// Per section.
    state: [State; 2],
}

impl Filter {
    pub fn new(mode: Mode) -> Self {
        let mut f = Self {
            mode,
            slope: Slope::Db12,
            sample_rate: 48_000.0,
            cutoff: 1_000.0,
            coefs: [Coefs::default(); 2],
            lanes: [[f32x4::ZERO; 4]; 2],
            state: [State::default(); 2],
        };
        f.update();
        f
    }

    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate as f64;
        self.update();
        self.reset();
    }

    pub fn reset(&mut self) {
        self.state = [State::default(); 2];
    }

    /// The cutoff actually used for a requested one at this sample rate.
    pub fn effective_cutoff(&self, hz: f32) -> f64 {
        (hz as f64).clamp(1.0, MAX_CUTOFF_RATIO * self.sample_rate)
    }

    /// Sets cutoff and slope; recomputes coefficients only when something changed.
    #[inline]
    pub fn set(&mut self, cutoff_hz: f32, slope: Slope) {
        if cutoff_hz != self.cutoff || slope != self.slope {
            self.cutoff = cutoff_hz;
            self.slope = slope;
            self.update();
        }
    }

    fn update(&mut self) {
        let fc = self.effective_cutoff(self.cutoff);
        let g = (std::f64::consts::PI * fc / self.sample_rate).tan();
        for ((c, l), &q) in self.coefs.iter_mut().zip(self.lanes.iter_mut()).zip(self.slope.section_qs()) {
            *c = Coefs::new(g, q);
            *l = [c.k, c.a1, c.a2, c.a3].map(f32x4::splat);
        }
    }

    /// Filters one sample of one channel.
    #[inline]
    pub fn tick(&mut self, channel: usize, x: f32) -> f32 {
        let sections = self.slope.section_qs().len();
        let mut v0 = x;
        for s in 0..sections {
            let c = self.coefs[s];
            let st = &mut self.state[s];
            let (mut lanes1, mut lanes2) = (st.ic1.to_array(), st.ic2.to_array());
            let (ic1, ic2) = (&mut lanes1[channel], &mut lanes2[channel]);
            let v3 = v0 - *ic2;
            let v1 = c.a1 * *ic1 + c.a2 * v3;
            let v2 = *ic2 + c.a2 * *ic1 + c.a3 * v3;
            *ic1 = 2.0 * v1 - *ic1;
            *ic2 = 2.0 * v2 - *ic2;
            (st.ic1, st.ic2) = (f32x4::new(lanes1), f32x4::new(lanes2));
            v0 = match self.mode {
                Mode::LowPass => v2,
                Mode::HighPass => v0 - c.k * v1 - v2,
            };
        }
        v0
    }

    /// `tick` for every channel of a frame (1 or 2) at once: the same arithmetic per channel, in
    /// the same order, so each output is bit-for-bit what `tick` gives. The filtered frame is in
    /// the first `frame.len()` lanes.
    #[inline(always)]
    pub fn tick_frame(&mut self, frame: &[f32]) -> [f32; 4] {
        let second = if frame.len() > 1 { frame[1] } else { 0.0 };
        let mut v0 = f32x4::new([frame[0], second, 0.0, 0.0]);
        let two = f32x4::splat(2.0);
        for s in 0..self.slope.section_qs().len() {
            let [k, a1, a2, a3] = self.lanes[s];
            let st = &mut self.state[s];
            let (ic1, ic2) = (st.ic1, st.ic2);
            let v3 = v0 - ic2;
            let v1 = a1 * ic1 + a2 * v3;
            let v2 = ic2 + a2 * ic1 + a3 * v3;
            st.ic1 = two * v1 - ic1;
            st.ic2 = two * v2 - ic2;
            v0 = match self.mode {
                Mode::LowPass => v2,
                Mode::HighPass => v0 - k * v1 - v2,
            };
        }
        v0.to_array()
    }

    /// Filters a chunk in place (1 or 2 channels) and fades it in: each sample becomes
    /// x + fade[i] · (filtered − x). `cutoff(i)` is sample i's cutoff, read once when `steady`.
    /// Bit for bit `set`, `tick_frame` and the fade frame after frame, with the mode and the
    /// number of sections fixed for the whole loop and the fade on the same SIMD lanes.
    #[inline]
    pub fn process_block(&mut self, chans: &mut [&mut [f32]], steady: bool, cutoff: impl Fn(usize) -> f32, slope: Slope, fade: &[f32]) {
        match (self.mode, slope) {
            (Mode::HighPass, Slope::Db12) => self.block::<true, 1>(chans, steady, cutoff, slope, fade),
            (Mode::HighPass, Slope::Db24) => self.block::<true, 2>(chans, steady, cutoff, slope, fade),
            (Mode::LowPass, Slope::Db12) => self.block::<false, 1>(chans, steady, cutoff, slope, fade),
            (Mode::LowPass, Slope::Db24) => self.block::<false, 2>(chans, steady, cutoff, slope, fade),
        }
    }

    #[inline(always)]
    fn block<const HP: bool, const SECTIONS: usize>(
        &mut self,
        chans: &mut [&mut [f32]],
        steady: bool,
        cutoff: impl Fn(usize) -> f32,
        slope: Slope,
        fade: &[f32],
    ) {
        if steady {
            self.set(cutoff(0), slope);
            self.frames::<HP, SECTIONS>(chans, fade, |_, _| {});
        } else {
            self.frames::<HP, SECTIONS>(chans, fade, |f, i| f.set(cutoff(i), slope));
        }
    }

    #[inline(always)]
    fn frames<const HP: bool, const SECTIONS: usize>(
        &mut self,
        chans: &mut [&mut [f32]],
        fade: &[f32],
        mut before: impl FnMut(&mut Self, usize),
    ) {
        match chans {
            [l, r, ..] => {
                let n = l.len().min(r.len()).min(fade.len());
                let (l, r, fade) = (&mut l[..n], &mut r[..n], &fade[..n]);
                for i in 0..n {
                    before(self, i);
                    let x = f32x4::new([l[i], r[i], 0.0, 0.0]);
                    let y = self.sections::<HP, SECTIONS>(x);
                    let [a, b, _, _] = (x + f32x4::splat(fade[i]) * (y - x)).to_array();
                    (l[i], r[i]) = (a, b);
                }
            }
            [m] => {
                for (i, (v, &amount)) in m.iter_mut().zip(fade).enumerate() {
                    before(self, i);
                    let x = f32x4::new([*v, 0.0, 0.0, 0.0]);
                    let y = self.sections::<HP, SECTIONS>(x);
                    *v = (x + f32x4::splat(amount) * (y - x)).to_array()[0];
                }
            }
            [] => {}
        }
    }

    /// `tick_frame`'s arithmetic with the mode and the number of sections known.
    #[inline(always)]
    fn sections<const HP: bool, const SECTIONS: usize>(&mut self, mut v0: f32x4) -> f32x4 {
        let two = f32x4::splat(2.0);
        for s in 0..SECTIONS {
            let [k, a1, a2, a3] = self.lanes[s];
            let st = &mut self.state[s];
            let (ic1, ic2) = (st.ic1, st.ic2);
            let v3 = v0 - ic2;
            let v1 = a1 * ic1 + a2 * v3;
            let v2 = ic2 + a2 * ic1 + a3 * v3;
            st.ic1 = two * v1 - ic1;
            st.ic2 = two * v2 - ic2;
            v0 = if HP { v0 - k * v1 - v2 } else { v2 };
        }
        v0
    }

    /// A 12 dB/oct high-pass then a 12 dB/oct low-pass on a stereo chunk, both with their cutoffs
    /// held (the caller has `set` them), each faded in by its own fade: bit for bit `hp` then
    /// `lp` through `process_block`. The two sections share one four-lane pass, the high-pass on
    /// lanes 0–1 at sample i and the low-pass on lanes 2–3 at sample i − 1 (what the high-pass
    /// gave one step before), so the two run in the time of one.
    #[inline]
    pub fn process_pair(hp: &mut Filter, lp: &mut Filter, l: &mut [f32], r: &mut [f32], hp_fade: &[f32], lp_fade: &[f32]) {
        debug_assert!(hp.mode == Mode::HighPass && lp.mode == Mode::LowPass && hp.slope == Slope::Db12 && lp.slope == Slope::Db12);
        let n = l.len().min(r.len()).min(hp_fade.len()).min(lp_fade.len());
        if n == 0 {
            return;
        }
        let (l, r, hp_fade, lp_fade) = (&mut l[..n], &mut r[..n], &hp_fade[..n], &lp_fade[..n]);
        // Sample 0 through the high-pass alone.
        let first = {
            let x = f32x4::new([l[0], r[0], 0.0, 0.0]);
            let y = hp.sections::<true, 1>(x);
            (x + f32x4::splat(hp_fade[0]) * (y - x)).to_array()
        };
        // Both sections' coefficients and states side by side: [hp L, hp R, lp L, lp R].
        let join = |a: f32x4, b: f32x4| {
            let (a, b) = (a.to_array(), b.to_array());
            f32x4::new([a[0], a[1], b[0], b[1]])
        };
        let [hk, ha1, ha2, ha3] = hp.lanes[0];
        let [_, la1, la2, la3] = lp.lanes[0];
        let (k, a1, a2, a3) = (hk, join(ha1, la1), join(ha2, la2), join(ha3, la3));
        let mut ic1 = join(hp.state[0].ic1, lp.state[0].ic1);
        let mut ic2 = join(hp.state[0].ic2, lp.state[0].ic2);
        let high = f32x4::new([f32::from_bits(u32::MAX), f32::from_bits(u32::MAX), 0.0, 0.0]);
        let two = f32x4::splat(2.0);
        // Lanes 2–3 hold the high-passed previous sample, the low-pass's input.
        let mut carry = (first[0], first[1]);
        for i in 1..n {
            let x = f32x4::new([l[i], r[i], carry.0, carry.1]);
            let v3 = x - ic2;
            let v1 = a1 * ic1 + a2 * v3;
            let v2 = ic2 + a2 * ic1 + a3 * v3;
            ic1 = two * v1 - ic1;
            ic2 = two * v2 - ic2;
            // The high-pass's output on lanes 0–1, the low-pass's (v2) on lanes 2–3.
            let y = high.bitselect(x - k * v1 - v2, v2);
            let fade = f32x4::new([hp_fade[i], hp_fade[i], lp_fade[i - 1], lp_fade[i - 1]]);
            let [hl, hr, ol, or] = (x + fade * (y - x)).to_array();
            (l[i - 1], r[i - 1]) = (ol, or);
            carry = (hl, hr);
        }
        let split = |v: f32x4| {
            let v = v.to_array();
            (f32x4::new([v[0], v[1], 0.0, 0.0]), f32x4::new([v[2], v[3], 0.0, 0.0]))
        };
        (hp.state[0].ic1, lp.state[0].ic1) = split(ic1);
        (hp.state[0].ic2, lp.state[0].ic2) = split(ic2);
        // The last sample through the low-pass alone.
        let x = f32x4::new([carry.0, carry.1, 0.0, 0.0]);
        let y = lp.sections::<false, 1>(x);
        let [ol, or, _, _] = (x + f32x4::splat(lp_fade[n - 1]) * (y - x)).to_array();
        (l[n - 1], r[n - 1]) = (ol, or);
    }

    /// The theoretical magnitude response at `freq`, from the analog prototype through the
    /// pre-warped bilinear transform. Tests hold the running filter to this.
    pub fn analytic_magnitude(mode: Mode, slope: Slope, cutoff: f64, sample_rate: f64, freq: f64) -> f64 {
        let fc = cutoff.clamp(1.0, MAX_CUTOFF_RATIO * sample_rate);
        let w = (std::f64::consts::PI * freq / sample_rate).tan() / (std::f64::consts::PI * fc / sample_rate).tan();
        slope.section_qs().iter().fold(1.0, |acc, &q| {
            // |1 / (s² + s/q + 1)| at s = jw, times w² for the high-pass.
            let re = 1.0 - w * w;
            let im = w / q;
            let den = (re * re + im * im).sqrt();
            acc * match mode {
                Mode::LowPass => 1.0 / den,
                Mode::HighPass => w * w / den,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paired high-pass and low-pass give bit for bit what the two give one after the other,
    /// through fades, cutoffs set between blocks, silence (signed zeros) and odd block sizes.
    #[test]
    fn the_pair_matches_the_two_in_series() {
        let mut seed = 12u32;
        let (mut hp, mut lp) = (Filter::new(Mode::HighPass), Filter::new(Mode::LowPass));
        let (mut hp2, mut lp2) = (Filter::new(Mode::HighPass), Filter::new(Mode::LowPass));
        for block in 0..300usize {
            let n = [64usize, 1, 2, 37, 128, 3][block % 6];
            let (fh, fl) = (40.0 + (block / 20) as f32 * 97.0, 18_000.0 - (block / 30) as f32 * 1_100.0);
            for f in [&mut hp, &mut hp2] {
                f.set(fh, Slope::Db12);
            }
            for f in [&mut lp, &mut lp2] {
                f.set(fl, Slope::Db12);
            }
            let hp_fade: Vec<f32> = (0..n).map(|i| ((block * 128 + i) as f32 * 0.002).sin().abs()).collect();
            let lp_fade: Vec<f32> = (0..n).map(|i| ((block * 128 + i) as f32 * 0.0031).cos().abs()).collect();
            let silent = block % 50 > 40;
            let mut x: Vec<Vec<f32>> = (0..2)
                .map(|_| {
                    (0..n).map(|_| if silent { -0.0 } else { crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5 }).collect()
                })
                .collect();
            let mut want = x.clone();
            {
                let mut chans: Vec<&mut [f32]> = want.iter_mut().map(|c| c.as_mut_slice()).collect();
                hp2.process_block(&mut chans, true, |_| fh, Slope::Db12, &hp_fade);
                lp2.process_block(&mut chans, true, |_| fl, Slope::Db12, &lp_fade);
            }
            let (l, r) = x.split_at_mut(1);
            Filter::process_pair(&mut hp, &mut lp, &mut l[0], &mut r[0], &hp_fade, &lp_fade);
            for (got, want) in x.iter().zip(&want) {
                let bits = |v: &Vec<f32>| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(got), bits(want), "block {block}");
            }
        }
    }

    /// The block form gives bit for bit what `set`, `tick_frame` and the fade give frame after
    /// frame: both modes and slopes, mono and stereo, a cutoff held (steady) and swept, a fade.
    #[test]
    fn process_block_matches_frames_bit_for_bit() {
        let mut seed = 5u32;
        for mode in [Mode::LowPass, Mode::HighPass] {
            for slope in [Slope::Db12, Slope::Db24] {
                for channels in [1usize, 2] {
                    for steady in [true, false] {
                        let (mut a, mut b) = (Filter::new(mode), Filter::new(mode));
                        for block in 0..40usize {
                            let n = [64usize, 1, 37, 128][block % 4];
                            let cutoff = |i: usize| if steady { 900.0 } else { 60.0 + ((block * 128 + i) % 500) as f32 * 31.0 };
                            let fade: Vec<f32> = (0..n).map(|i| ((block * 128 + i) as f32 * 0.003).sin().abs()).collect();
                            let mut x: Vec<Vec<f32>> = (0..channels)
                                .map(|_| (0..n).map(|_| crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5).collect())
                                .collect();
                            let mut want = x.clone();
                            for i in 0..n {
                                b.set(cutoff(i), slope);
                                let frame: Vec<f32> = want.iter().map(|c| c[i]).collect();
                                let y = b.tick_frame(&frame);
                                for (ch, c) in want.iter_mut().enumerate() {
                                    c[i] += fade[i] * (y[ch] - c[i]);
                                }
                            }
                            let mut chans: Vec<&mut [f32]> = x.iter_mut().map(|c| c.as_mut_slice()).collect();
                            a.process_block(&mut chans, steady, cutoff, slope, &fade);
                            for (got, want) in x.iter().zip(&want) {
                                let bits = |v: &Vec<f32>| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
                                assert_eq!(bits(got), bits(want), "{mode:?} {slope:?} {channels} ch, steady {steady}, block {block}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// The frame-wise SIMD form gives, channel for channel, bit-for-bit what the scalar `tick`
    /// gives, for both modes and slopes, through a cutoff sweep.
    #[test]
    fn tick_frame_matches_tick_bit_for_bit() {
        let mut seed = 11u32;
        for mode in [Mode::LowPass, Mode::HighPass] {
            for slope in [Slope::Db12, Slope::Db24] {
                let (mut a, mut b) = (Filter::new(mode), Filter::new(mode));
                for n in 0..5_000 {
                    let cutoff = 40.0 + (n % 700) as f32 * 25.0;
                    a.set(cutoff, slope);
                    b.set(cutoff, slope);
                    let x = [crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5, (n as f32 * 0.01).sin()];
                    let y = a.tick_frame(&x);
                    for ch in 0..2 {
                        assert_eq!(y[ch].to_bits(), b.tick(ch, x[ch]).to_bits(), "{mode:?} {slope:?} sample {n} ch {ch}");
                    }
                    let mono = a.tick_frame(&x[..1])[0];
                    let _ = b.tick(1, 0.0);
                    assert_eq!(mono.to_bits(), b.tick(0, x[0]).to_bits());
                }
            }
        }
    }
}
