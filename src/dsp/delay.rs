//! The echo: a stereo ring buffer read at a fractional position with 4-point Hermite (cubic)
//! interpolation, feedback through a tone low-pass, and optional ping-pong.
//!
//! Time changes are click-free: a slow drift of the time moves the read head (a tape-like bend of
//! at most ±5 % pitch); anything faster crossfades over 30 ms from the old read head to one at the
//! new time, so a jump from 900 ms to 15 ms neither clicks nor chirps.

use super::ring::Ring;
use super::MAX_CH;

pub const MAX_DELAY_S: f32 = 2.0;
/// The feedback's upper bound: with the tone filter's unity DC gain the loop gain stays below 1,
/// so the echoes always die away.
pub const MAX_FEEDBACK: f32 = 0.95;
/// The crossfade between read heads when the time changes faster than a glide may follow.
pub const TIME_XFADE_MS: f32 = 30.0;
/// The fastest the read head itself may move, in samples per sample (±5 % pitch).
pub const MAX_GLIDE: f32 = 0.05;
/// The shortest delay: the interpolator needs two samples of future beyond the read point.
pub const MIN_DELAY_SAMPLES: f32 = 3.0;

#[derive(Debug, Clone, Copy)]
pub struct DelaySettings {
    /// Delay in samples (already tempo-resolved).
    pub delay_samples: f32,
    pub feedback: f32,
    pub tone_hz: f32,
    pub ping_pong: bool,
    /// Level of the echoes added to the signal, 0..1.
    pub mix: f32,
}

pub use super::BLOCK;

/// A run's per-sample values, kept with the delay: every element a run reads is written first
/// in the same run.
#[derive(Debug, Clone)]
struct Scratch {
    head: [f32; BLOCK],
    next: [f32; BLOCK],
    xfade: [f32; BLOCK],
    coef: [f32; BLOCK],
    feedback: [f32; BLOCK],
    /// The echoes' level times the stage's fade.
    level: [f32; BLOCK],
    ping_pong: [bool; BLOCK],
    wet: [[f32; BLOCK]; MAX_CH],
    fed: [[f32; BLOCK]; MAX_CH],
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            head: [0.0; BLOCK],
            next: [0.0; BLOCK],
            xfade: [0.0; BLOCK],
            coef: [0.0; BLOCK],
            feedback: [0.0; BLOCK],
            level: [0.0; BLOCK],
            ping_pong: [false; BLOCK],
            wet: [[0.0; BLOCK]; MAX_CH],
            fed: [[0.0; BLOCK]; MAX_CH],
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Delay {
    sample_rate: f32,
    /// One line per channel; their write positions move together.
    lines: [Ring; MAX_CH],
    /// The read head in use, in samples of delay; negative means "take the target at once".
    head: f32,
    /// The head being faded to, and the fade's progress (0..1) and step; `next < 0` when none.
    next: f32,
    xfade: f32,
    xfade_step: f32,
    tone_hz: f32,
    tone_coef: f32,
    tone_state: [f32; MAX_CH],
    scratch: Box<Scratch>,
}

/// 4-point, 3rd-order Hermite interpolation between `x1` and `x2` at `t` in [0, 1).
#[inline]
pub fn hermite(xm1: f32, x0: f32, x1: f32, x2: f32, t: f32) -> f32 {
    let c = (x1 - xm1) * 0.5;
    let v = x0 - x1;
    let w = c + v;
    let a = w + v + (x2 - x0) * 0.5;
    let b = w + a;
    ((a * t - b) * t + c) * t + x0
}

impl Delay {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        let len = ((MAX_DELAY_S * sample_rate) as usize + 8).next_power_of_two();
        for line in &mut self.lines {
            *line = Ring::new(len);
        }
        self.xfade_step = 1.0 / (TIME_XFADE_MS * 0.001 * sample_rate);
        self.tone_hz = -1.0;
        self.reset();
    }

    pub fn reset(&mut self) {
        for line in &mut self.lines {
            line.reset();
        }
        self.head = -1.0;
        self.next = -1.0;
        self.xfade = 0.0;
        self.tone_state = [0.0; MAX_CH];
    }

    /// The longest delay in samples at this rate.
    pub fn max_delay_samples(&self) -> f32 {
        MAX_DELAY_S * self.sample_rate
    }

    /// Where a read `delay` samples back falls: the ring index of the sample at the whole part
    /// and the fraction. `delay` lies in [MIN_DELAY_SAMPLES, max_delay_samples()] (`tick`
    /// clamps the target, and both heads come from targets).
    #[inline(always)]
    fn position(&self, delay: f32) -> (usize, f32) {
        // SAFETY: finite and in [3, 2 s × rate], far inside i32; truncation is floor here (and
        // a single cvttss2si, with no floorf call on baseline x86-64).
        let whole = unsafe { delay.to_int_unchecked::<i32>() };
        (self.lines[0].write_pos().wrapping_sub(whole as usize), delay - whole as f32)
    }

    #[inline(always)]
    fn read(&self, ch: usize, (base, t): (usize, f32)) -> f32 {
        // Reading backwards: position write − delay lies between samples (n−d0) and (n−d0−1).
        let line = &self.lines[ch];
        let at = |i: usize| line.at(i);
        hermite(at(base.wrapping_add(1)), at(base), at(base.wrapping_sub(1)), at(base.wrapping_sub(2)), t)
    }

    /// Processes a block of frames (1 or 2 channels, at most `BLOCK` frames) in place;
    /// `settings(i)` and `fade[i]` are sample i's. Bit for bit what `tick` gives frame after
    /// frame: the block runs in runs in which no read reaches a sample the run itself writes
    /// (a run is as long as the delay allows, so the whole block at any usual time), and a run
    /// reads the ring for all its samples, then writes them. While the read head holds still the
    /// four interpolation taps of consecutive samples are consecutive, and the reads run on SIMD
    /// lanes.
    pub fn process_block(&mut self, chans: &mut [&mut [f32]], settings: impl Fn(usize) -> DelaySettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        if channels == 0 {
            return;
        }
        let mut a = 0;
        while a < n {
            let (b, still) = self.plan(a, n, &settings, fade);
            self.run(chans, channels, a, b, still, fade, None);
            a = b;
        }
    }

    /// `process_block` for settings that hold still over the block (the chain's steady case):
    /// while the head rests on the target with no crossfade, a run's plan is the same for every
    /// sample, so it is filled at once instead of stepped sample by sample. Bit for bit
    /// `process_block(chans, |_| s, fade)`.
    pub fn process_steady(&mut self, chans: &mut [&mut [f32]], s: DelaySettings, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len()).min(BLOCK).min(fade.len());
        let channels = chans.len().min(MAX_CH);
        if channels == 0 {
            return;
        }
        let target = s.delay_samples.max(MIN_DELAY_SAMPLES).min(self.max_delay_samples());
        let mut a = 0;
        while a < n {
            // Resting: the per-sample plan would set the head to the target on the first sample
            // and change nothing after it.
            let resting = self.next < 0.0 && self.head >= 0.0 && (target - self.head).abs() <= MAX_GLIDE;
            let (b, still) = if resting { (self.plan_resting(a, n, target, &s, fade), true) } else { self.plan(a, n, &|_| s, fade) };
            self.run(chans, channels, a, b, still, fade, Some(s.ping_pong));
            a = b;
        }
    }

    /// `plan` for a head resting on `target` with settings `s` held: the run ends where `plan`'s
    /// would (sample j may read no younger than whole delay − 1 pushes back).
    #[inline(always)]
    fn plan_resting(&mut self, a: usize, n: usize, target: f32, s: &DelaySettings, fade: &[f32]) -> usize {
        self.head = target;
        // SAFETY: finite and in [3, 2 s × rate], far inside i32 (as in `plan`).
        let whole = unsafe { self.head.to_int_unchecked::<i32>() } as usize;
        let m = whole.saturating_sub(1).max(1).min(n - a);
        if s.tone_hz != self.tone_hz {
            self.tone_hz = s.tone_hz;
            let fc = s.tone_hz.min(0.45 * self.sample_rate);
            self.tone_coef = (-std::f32::consts::TAU * fc / self.sample_rate).exp();
        }
        let sc = &mut self.scratch;
        // (`run` reads the heads of every sample where its taps cross the ring's wrap.)
        sc.head[..m].fill(self.head);
        sc.next[..m].fill(self.next);
        sc.xfade[..m].fill(self.xfade);
        sc.coef[..m].fill(self.tone_coef);
        sc.feedback[..m].fill(s.feedback.clamp(0.0, MAX_FEEDBACK));
        for (l, &f) in sc.level[..m].iter_mut().zip(&fade[a..a + m]) {
            *l = s.mix * f;
        }
        sc.ping_pong[..m].fill(s.ping_pong);
        a + m
    }

    /// Steps the read heads (glide, crossfade) and the tone filter's coefficient through samples
    /// a.. for as long as sample j of the run reads only samples written before the run (its
    /// youngest tap, whole delay − 1 pushes back, minus the j pushes the run defers); returns
    /// the run's end and whether the head held still with no crossfade.
    #[inline(always)]
    fn plan(&mut self, a: usize, n: usize, settings: &impl Fn(usize) -> DelaySettings, fade: &[f32]) -> (usize, bool) {
        let mut still = true;
        let mut i = a;
        while i < n {
            let s = settings(i);
            let before = (self.head, self.next, self.xfade);
            // max/min rather than clamp: a NaN (a host sending tempo NaN) becomes the shortest delay.
            let target = s.delay_samples.max(MIN_DELAY_SAMPLES).min(self.max_delay_samples());
            if self.head < 0.0 {
                self.head = target;
            }
            if self.next >= 0.0 {
                self.xfade += self.xfade_step;
                if self.xfade >= 1.0 {
                    self.head = self.next;
                    self.next = -1.0;
                }
            }
            if self.next < 0.0 {
                let change = target - self.head;
                if change.abs() <= MAX_GLIDE {
                    self.head = target;
                } else {
                    self.next = target;
                    self.xfade = 0.0;
                }
            }
            // Heads lie in [MIN_DELAY_SAMPLES, max]: the truncation is the whole part.
            // SAFETY: finite and in [3, 2 s × rate], far inside i32.
            let whole = |d: f32| unsafe { d.to_int_unchecked::<i32>() } as usize;
            let whole = whole(self.head).min(if self.next >= 0.0 { whole(self.next) } else { usize::MAX });
            let j = i - a;
            if j > 0 && j + 2 > whole {
                (self.head, self.next, self.xfade) = before;
                break;
            }
            if s.tone_hz != self.tone_hz {
                self.tone_hz = s.tone_hz;
                let fc = s.tone_hz.min(0.45 * self.sample_rate);
                self.tone_coef = (-std::f32::consts::TAU * fc / self.sample_rate).exp();
            }
            let sc = &mut self.scratch;
            sc.head[j] = self.head;
            sc.next[j] = self.next;
            sc.xfade[j] = self.xfade;
            sc.coef[j] = self.tone_coef;
            sc.feedback[j] = s.feedback.clamp(0.0, MAX_FEEDBACK);
            sc.level[j] = s.mix * fade[i];
            sc.ping_pong[j] = s.ping_pong;
            still &= self.next < 0.0 && self.head == sc.head[0];
            i += 1;
        }
        (i, still)
    }

    /// Samples a..b, planned by `plan`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    /// `ping_pong`: `Some(p)` when every sample of the run has ping-pong `p` (held settings).
    fn run(&mut self, chans: &mut [&mut [f32]], channels: usize, a: usize, b: usize, still: bool, fade: &[f32], ping_pong: Option<bool>) {
        let m = b - a;
        let len = self.lines[0].len();
        // The reads, for every sample of the run, before any write.
        for ch in 0..channels {
            let (base, t) = self.position(self.scratch.head[0]);
            let wet = &mut self.scratch.wet[ch];
            // Sample j's taps are base + j + 1 down to base + j − 2: one unwrapped stretch?
            let lo = base.wrapping_sub(2) & (len - 1);
            if still && lo + m + 3 <= len {
                let taps = &self.lines[ch].as_slice()[lo..lo + m + 3];
                for (j, w) in wet[..m].iter_mut().enumerate() {
                    *w = hermite(taps[j + 3], taps[j + 2], taps[j + 1], taps[j], t);
                }
            } else {
                for j in 0..m {
                    let (head, next, xfade) = (self.scratch.head[j], self.scratch.next[j], self.scratch.xfade[j]);
                    // Sample j's read, j pushes after the run's start.
                    let at = |d: f32| {
                        let (base, t) = self.position(d);
                        (base.wrapping_add(j), t)
                    };
                    let mut w = self.read(ch, at(head));
                    if next >= 0.0 {
                        w += xfade * (self.read(ch, at(next)) - w);
                    }
                    self.scratch.wet[ch][j] = w;
                }
            }
        }
        // The tone filter: a one-pole low-pass with unity gain at DC (both channels on the lanes
        // of one vector: the same arithmetic per channel).
        {
            let sc = &mut *self.scratch;
            let [w0, w1] = &sc.wet;
            let (w0, w1, coef) = (&w0[..m], &w1[..m], &sc.coef[..m]);
            let mut st = wide::f32x4::new([self.tone_state[0], self.tone_state[1], 0.0, 0.0]);
            let [f0, f1] = &mut sc.fed;
            for (j, (a, b)) in f0[..m].iter_mut().zip(&mut f1[..m]).enumerate() {
                let w = wide::f32x4::new([w0[j], w1[j], 0.0, 0.0]);
                st = w + wide::f32x4::splat(coef[j]) * (st - w);
                let v = st.to_array();
                (*a, *b) = (v[0], v[1]);
            }
            let v = st.to_array();
            self.tone_state[..channels].copy_from_slice(&v[..channels]);
        }
        // What goes into the ring: the input plus the fed-back echo.
        let sc = &mut *self.scratch;
        let fade = &fade[a..b];
        if channels == 2 && ping_pong.unwrap_or_else(|| sc.ping_pong[..m].iter().any(|&p| p)) {
            for j in 0..m {
                let fb = sc.feedback[j];
                if sc.ping_pong[j] {
                    // The input enters on the left only (as a mono sum); each echo crosses sides.
                    let mono = 0.5 * (chans[0][a + j] + chans[1][a + j]);
                    let (l, r) = (sc.fed[0][j], sc.fed[1][j]);
                    sc.fed[0][j] = mono * fade[j] + fb * r;
                    sc.fed[1][j] = fb * l;
                } else {
                    for ch in 0..2 {
                        sc.fed[ch][j] = chans[ch][a + j] * fade[j] + fb * sc.fed[ch][j];
                    }
                }
            }
        } else {
            for ch in 0..channels {
                for (((fed, &x), &amount), &fb) in sc.fed[ch][..m].iter_mut().zip(&chans[ch][a..b]).zip(fade).zip(&sc.feedback[..m]) {
                    *fed = x * amount + fb * *fed;
                }
            }
        }
        for (ch, line) in self.lines.iter_mut().enumerate() {
            if ch < channels {
                line.push_run(&self.scratch.fed[ch][..m]);
            } else {
                // A channel not in use keeps its place beside the others.
                line.advance(m);
            }
        }
        for ch in 0..channels {
            for ((y, &level), &wet) in chans[ch][a..b].iter_mut().zip(&self.scratch.level[..m]).zip(&self.scratch.wet[ch][..m]) {
                *y += level * wet;
            }
        }
    }
}

super::block_stage_impl!(Delay, DelaySettings, steady);

#[cfg(test)]
mod tests {
    use super::*;

    /// The steady form gives, bit for bit, what the general form gives for the same held
    /// settings: through resting heads, jumps (crossfades, which it leaves to the general plan),
    /// delays of a few samples (runs of one or two), tone and ping-pong changes between holds,
    /// a fade, mono and stereo, 8 and 48 kHz, odd block sizes.
    #[test]
    fn the_steady_form_matches_the_general_form() {
        for (rate, channels) in [(8_000.0f32, 2usize), (48_000.0, 2), (8_000.0, 1)] {
            let (mut a, mut b) = (Delay::default(), Delay::default());
            a.prepare(rate);
            b.prepare(rate);
            let mut seed = 4u32;
            let input = |t: usize| if t % 9_000 < 3_000 { crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5 } else { 0.0 };
            // A new held setting every 40 blocks.
            let hold = |h: usize| DelaySettings {
                delay_samples: [0.35 * rate, 3.0, 0.35 * rate + 0.02, 7.5, 0.9 * rate, 4.0][h % 6],
                feedback: [0.3, 0.8, 0.95][h % 3],
                tone_hz: [6_000.0, 1_500.0][h % 2],
                ping_pong: h % 4 == 1,
                mix: 0.5,
            };
            let fade = |t: usize| ((t as f32 * 0.0002).sin() * 0.8 + 0.6).clamp(0.0, 1.0);
            let sizes = [64usize, 1, 77, 128, 3, 100];
            crate::dsp::block_test::assert_steady_matches_general(
                &mut a,
                &mut b,
                channels,
                &sizes,
                3_000,
                40,
                input,
                hold,
                fade,
                |a, b| {
                    assert_eq!(
                        (a.head.to_bits(), a.next.to_bits(), a.lines[0].write_pos()),
                        (b.head.to_bits(), b.next.to_bits(), b.lines[0].write_pos()),
                        "{rate} Hz"
                    );
                },
            );
        }
    }

    /// Blocks of any size give, bit for bit, what frame after frame gives: a time holding still
    /// (reads on SIMD lanes, across the ring's wrap), gliding slowly (the head follows), jumping
    /// (crossfades, from 900 ms down to a few samples, where runs are a sample or two long),
    /// the tone and feedback moving, ping-pong switching, a fade, mono and stereo.
    #[test]
    fn any_block_size_gives_the_same_bits() {
        for (rate, channels) in [(8_000.0f32, 2usize), (48_000.0, 2), (8_000.0, 1)] {
            let (mut a, mut b) = (Delay::default(), Delay::default());
            a.prepare(rate);
            b.prepare(rate);
            let mut seed = 9u32;
            let input = |t: usize| {
                let noise = crate::dsp::xorshift32(&mut seed) as f32 / u32::MAX as f32 - 0.5;
                if t % 7_000 < 2_500 {
                    noise
                } else {
                    0.0
                }
            };
            let settings = |t: usize| {
                let x = t as f32;
                let delay_samples = match t / 6_000 % 5 {
                    0 => 0.35 * rate,
                    1 => 0.35 * rate + 40.0 * (x * 0.001).sin(),
                    2 => [0.9 * rate, 3.0, 7.5, 0.02 * rate, 4.2][t / 1_500 % 5],
                    3 => 3.0 + 2.0 * (x * 0.01).sin().abs(),
                    _ => 0.1 * rate,
                };
                DelaySettings {
                    delay_samples,
                    feedback: 0.5 + 0.4 * (x * 0.0003).sin(),
                    tone_hz: if (t / 3_000).is_multiple_of(2) { 6_000.0 } else { 2_000.0 + 1_000.0 * (x * 0.002).sin() },
                    ping_pong: t / 10_000 % 2 == 1,
                    mix: 0.4,
                }
            };
            let fade = |t: usize| ((t as f32 * 0.0002).sin() * 0.8 + 0.6).clamp(0.0, 1.0);
            let sizes = [128usize, 1, 77, 128, 3, 64, 128, 100];
            let mut loudest = 0.0f32;
            crate::dsp::block_test::assert_blocks_match_frames(&mut a, &mut b, channels, &sizes, 900, input, settings, fade, |a, b| {
                assert_eq!(a.tone_state.map(f32::to_bits), b.tone_state.map(f32::to_bits));
                assert_eq!(
                    (a.head.to_bits(), a.next.to_bits(), a.lines[0].write_pos()),
                    (b.head.to_bits(), b.next.to_bits(), b.lines[0].write_pos())
                );
                loudest = a.tone_state.iter().fold(loudest, |m, x| m.max(x.abs()));
            });
            assert!(loudest > 0.01, "the test must run the echoes: {loudest}");
        }
    }
}
