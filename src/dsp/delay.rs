//! The echo: a stereo ring buffer read at a fractional position with 4-point Hermite (cubic)
//! interpolation, feedback through a tone low-pass, and optional ping-pong.
//!
//! Time changes are click-free: a slow drift of the time moves the read head (a tape-like bend of
//! at most ±5 % pitch); anything faster crossfades over 30 ms from the old read head to one at the
//! new time, so a jump from 900 ms to 15 ms neither clicks nor chirps.

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

#[derive(Debug, Clone, Default)]
pub struct Delay {
    sample_rate: f32,
    buf: [Vec<f32>; MAX_CH],
    mask: usize,
    write: usize,
    /// The read head in use, in samples of delay; negative means "take the target at once".
    head: f32,
    /// The head being faded to, and the fade's progress (0..1) and step; `next < 0` when none.
    next: f32,
    xfade: f32,
    xfade_step: f32,
    tone_hz: f32,
    tone_coef: f32,
    tone_state: [f32; MAX_CH],
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
        for b in &mut self.buf {
            *b = vec![0.0; len];
        }
        self.mask = len - 1;
        self.xfade_step = 1.0 / (TIME_XFADE_MS * 0.001 * sample_rate);
        self.tone_hz = -1.0;
        self.reset();
    }

    pub fn reset(&mut self) {
        for b in &mut self.buf {
            b.fill(0.0);
        }
        self.write = 0;
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
        (self.write.wrapping_sub(whole as usize), delay - whole as f32)
    }

    #[inline(always)]
    fn read(&self, ch: usize, (base, t): (usize, f32)) -> f32 {
        // Reading backwards: position write − delay lies between samples (n−d0) and (n−d0−1).
        let b = &self.buf[ch];
        let m = self.mask;
        // SAFETY: every index is masked, and the mask is the buffer's length − 1.
        let at = |i: usize| unsafe { *b.get_unchecked(i & m) };
        hermite(at(base.wrapping_add(1)), at(base), at(base.wrapping_sub(1)), at(base.wrapping_sub(2)), t)
    }

    /// Processes one frame in place; `amount` (0..1) is the stage's on/off fade.
    #[inline]
    pub fn tick(&mut self, frame: &mut [f32], s: &DelaySettings, amount: f32) {
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
        if s.tone_hz != self.tone_hz {
            self.tone_hz = s.tone_hz;
            let fc = s.tone_hz.min(0.45 * self.sample_rate);
            self.tone_coef = (-std::f32::consts::TAU * fc / self.sample_rate).exp();
        }
        let fb = s.feedback.clamp(0.0, MAX_FEEDBACK);
        let channels = frame.len();
        let mut wet = [0.0f32; MAX_CH];
        let head = self.position(self.head);
        let next = (self.next >= 0.0).then(|| self.position(self.next));
        for (ch, w) in wet.iter_mut().enumerate().take(channels) {
            *w = self.read(ch, head);
            if let Some(next) = next {
                *w += self.xfade * (self.read(ch, next) - *w);
            }
        }
        // The tone filter: a one-pole low-pass with unity gain at DC.
        let mut toned = [0.0f32; MAX_CH];
        for ch in 0..channels {
            let st = &mut self.tone_state[ch];
            *st = wet[ch] + self.tone_coef * (*st - wet[ch]);
            toned[ch] = *st;
        }
        if s.ping_pong && channels == 2 {
            // The input enters on the left only (as a mono sum); each echo crosses sides.
            let mono = 0.5 * (frame[0] + frame[1]);
            self.buf[0][self.write] = mono * amount + fb * toned[1];
            self.buf[1][self.write] = fb * toned[0];
        } else {
            for ch in 0..channels {
                self.buf[ch][self.write] = frame[ch] * amount + fb * toned[ch];
            }
        }
        self.write = (self.write + 1) & self.mask;
        for ch in 0..channels {
            frame[ch] += s.mix * amount * wet[ch];
        }
    }
}
