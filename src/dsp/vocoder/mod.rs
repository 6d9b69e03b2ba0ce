//! A channel vocoder with zero latency: the voice (the modulator) through a bank of 4 to 64
//! band-passes, each band's envelope setting the level of the same band of a carrier (the
//! sidechain, the built-in synth played by MIDI, or noise). See `bank.rs` for the bank and
//! `synth.rs` for the synth.
//!
//! Consonants: a voiced/unvoiced detector compares the voice's power above 3 kHz with its whole
//! power (a vowel puts well under a tenth above 3 kHz, an /s/ or /f/ most of it) and, as much as
//! the voice is unvoiced, swaps the carrier for white noise. The bank normalises every carrier
//! band to its own level, so a hiss gets the voice's /s/ spectrum back band by band, and the
//! consonants stay intelligible over a carrier with little treble (a saw, a pad).

pub mod bank;
pub mod synth;
#[cfg(test)]
mod tests;

use crate::dsp::{CONTROL, MAX_CH};
use bank::{Bank, Layout};
use synth::{Synth, SynthSettings};

/// Where the carrier comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Synth,
    Sidechain,
    Noise,
}

/// A note event for the synth, at a sample of the stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoteMsg {
    On { note: u8, velocity: f32 },
    Off { note: u8 },
    AllOff,
}

/// Note events that may wait for their sample (a block's worth at any sane rate).
pub const QUEUE: usize = 256;

/// Settings for a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VocoderSettings {
    pub carrier: Carrier,
    pub synth: SynthSettings,
    pub layout: Layout,
    pub attack_ms: f32,
    pub release_ms: f32,
    /// How much of the unvoiced detector's verdict swaps the carrier for noise, 0..1.
    pub unvoiced: f32,
    /// White noise mixed into the synth carrier, 0..1.
    pub noise: f32,
    /// Output level of the vocoded signal, linear.
    pub level: f32,
    /// Dry/wet, 0..1.
    pub mix: f32,
}

impl Default for VocoderSettings {
    fn default() -> Self {
        Self {
            carrier: Carrier::Synth,
            synth: SynthSettings { wave: synth::Wave::Saw, hold: true, root: 48, chord: synth::Chord::Minor },
            layout: Layout::default(),
            attack_ms: 2.0,
            release_ms: 40.0,
            unvoiced: 1.0,
            noise: 0.0,
            level: 1.0,
            mix: 1.0,
        }
    }
}

/// A voice sample this small (−150 dBFS) is silence.
const SILENT: f32 = 3.162_277_7e-8;

/// The split for the voiced/unvoiced detector, Hz.
const UV_SPLIT_HZ: f32 = 3_000.0;
/// Its power smoothing, seconds.
const UV_SMOOTH_S: f32 = 0.005;

pub struct Vocoder {
    fs: f32,
    bank: Bank,
    synth: Synth,
    queue: [(u64, NoteMsg); QUEUE],
    head: usize,
    len: usize,
    /// The high-pass of the detector (Simper: g, k, a1..a3) and its states.
    uv: [f32; 4],
    uv_s: [f32; 2],
    p_hi: f32,
    p_all: f32,
    uv_a: f32,
    /// The follower's coefficients, set at control points.
    att: f32,
    rel: f32,
    /// The last voiced/unvoiced verdict (for the editor), 0..1.
    pub unvoiced_now: f32,
    /// Consecutive silent samples of the voice.
    quiet: u32,
    /// Asleep: see `sleep`.
    asleep: bool,
}

impl Default for Vocoder {
    fn default() -> Self {
        let mut v = Self {
            fs: 48_000.0,
            bank: Bank::default(),
            synth: Synth::default(),
            queue: [(0, NoteMsg::AllOff); QUEUE],
            head: 0,
            len: 0,
            uv: [0.0; 4],
            uv_s: [0.0; 2],
            p_hi: 0.0,
            p_all: 0.0,
            uv_a: 0.0,
            att: 1.0,
            rel: 1.0,
            unvoiced_now: 0.0,
            quiet: 0,
            asleep: false,
        };
        v.prepare(48_000.0);
        v
    }
}

/// White noise uniform in [−1, 1) (RMS 0.577, a full-scale saw's level) as a hash of the stream
/// clock (Wellons' lowbias32): nothing to advance, so a skipped silence leaves it in step.
#[inline]
fn white(now: u64) -> f32 {
    let mut x = (now as u32) ^ ((now >> 32) as u32).wrapping_mul(0x9e37_79b9);
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    (x as i32) as f32 * (1.0 / 2_147_483_648.0)
}

/// A one-pole's coefficient for the power envelope of an amplitude time constant `ms` (the
/// power's time constant is half the amplitude's: both fall the same decibels per second).
fn follower(ms: f32, fs: f32) -> f32 {
    (1.0 - (-2.0 / (ms.max(0.01) as f64 * 0.001 * fs as f64)).exp()) as f32
}

impl Vocoder {
    pub fn prepare(&mut self, fs: f32) {
        self.fs = fs;
        self.bank.prepare(fs);
        self.synth.prepare(fs);
        let g = bank::portable_tan(std::f64::consts::PI * UV_SPLIT_HZ.min(0.4 * fs) as f64 / fs as f64);
        let k = std::f32::consts::SQRT_2;
        let a1 = 1.0 / (1.0 + g * (g + k));
        self.uv = [k, a1, g * a1, g * g * a1];
        self.uv_a = (1.0 - (-1.0 / (UV_SMOOTH_S as f64 * fs as f64)).exp()) as f32;
        self.reset();
    }

    /// Clears every state; notes held stay queued for nobody (all released).
    pub fn reset(&mut self) {
        self.clear_bands();
        self.synth.reset();
        self.len = 0;
        self.quiet = 0;
        self.asleep = false;
    }

    /// Clears the bands and the detector, keeping the synth's notes (the stage switched on again).
    pub fn clear_bands(&mut self) {
        self.bank.reset();
        self.uv_s = [0.0; 2];
        self.p_hi = 0.0;
        self.p_all = 0.0;
        self.unvoiced_now = 0.0;
    }

    /// `frames` samples of silence went by unprocessed (the chain idle, after the vocoder's
    /// tail): asleep, as it would have fallen, the synth's notes gliding on.
    pub fn skip_silence(&mut self, frames: u64) {
        self.sleep();
        self.synth.skip(frames);
    }

    /// Once the voice has been silent and every band's envelope is below −150 dB, the bank's
    /// states are cleared and it stops running until the voice returns. (The carrier's bands
    /// would otherwise keep ringing with the synth or the sidechain through any silence, so a
    /// chain that skipped the silence could not wake up where one that ran all along would.)
    fn sleep(&mut self) {
        self.clear_bands();
        self.asleep = true;
    }

    pub fn bank(&self) -> &Bank {
        &self.bank
    }

    pub fn synth(&self) -> &Synth {
        &self.synth
    }

    /// Queues a note event for stream sample `at` (dropped when the queue is full).
    pub fn push_note(&mut self, at: u64, msg: NoteMsg) {
        if self.len < QUEUE {
            self.queue[(self.head + self.len) % QUEUE] = (at, msg);
            self.len += 1;
        }
    }

    /// Applies every queued event due by stream sample `now` (all of them for `u64::MAX`).
    #[inline]
    pub fn apply_notes(&mut self, now: u64) {
        while self.len > 0 {
            let (at, msg) = self.queue[self.head];
            if at > now {
                break;
            }
            self.synth.set_clock(at.min(now));
            match msg {
                NoteMsg::On { note, velocity } if velocity > 0.0 => self.synth.note_on(note, velocity),
                NoteMsg::On { note, .. } | NoteMsg::Off { note } => self.synth.note_off(note),
                NoteMsg::AllOff => self.synth.all_off(),
            }
            self.head = (self.head + 1) % QUEUE;
            self.len -= 1;
        }
    }

    /// The voice's unvoiced share from its power above the split, 0 (voiced) .. 1 (unvoiced).
    #[inline]
    fn unvoiced(&mut self, x: f32) -> f32 {
        let [k, a1, a2, a3] = self.uv;
        let [s1, s2] = self.uv_s;
        let v1 = a1 * s1 + a2 * (x - s2);
        let v2 = s2 + a2 * s1 + a3 * (x - s2);
        self.uv_s = [2.0 * v1 - s1, 2.0 * v2 - s2];
        let hp = x - k * v1 - v2;
        self.p_hi += (hp * hp - self.p_hi) * self.uv_a;
        self.p_all += (x * x - self.p_all) * self.uv_a;
        let share = self.p_hi / (self.p_all + 1e-12);
        ((share - 0.3) * 2.5).clamp(0.0, 1.0)
    }

    /// Processes a block in place (1 or 2 channels): `side` is the sidechain (0 to 2 channels of
    /// the same length; none reads as silence), `clock` the stream position of the block's first
    /// sample, `settings(i)` and `fade[i]` sample i's.
    pub fn process_block(
        &mut self,
        chans: &mut [&mut [f32]],
        side: &[&[f32]],
        clock: u64,
        settings: impl Fn(usize) -> VocoderSettings,
        fade: &[f32],
    ) {
        let channels = chans.len().min(MAX_CH);
        let n = chans.first().map_or(0, |c| c.len()).min(fade.len());
        let side = &side[..side.len().min(MAX_CH)];
        let inv_ch = 1.0 / channels.max(1) as f32;
        let inv_side = 1.0 / side.len().max(1) as f32;
        for i in 0..n {
            let now = clock + i as u64;
            self.apply_notes(now);
            let s = settings(i);
            if now.is_multiple_of(CONTROL as u64) {
                self.bank.set_layout(s.layout);
                self.att = follower(s.attack_ms, self.fs);
                self.rel = follower(s.release_ms, self.fs);
            }
            let m = chans[..channels].iter().map(|c| c[i]).sum::<f32>() * inv_ch;
            if m.abs() <= SILENT {
                self.quiet = self.quiet.saturating_add(1);
            } else {
                self.quiet = 0;
                self.asleep = false;
            }
            if now.is_multiple_of(CONTROL as u64)
                && !self.asleep
                && self.quiet >= CONTROL as u32
                && self.bank.max_envelope() <= SILENT * SILENT
            {
                self.sleep();
            }
            let wet = if self.asleep {
                // No voice, no output: the wet signal is exact silence, the notes glide on.
                self.synth.skip(1);
                0.0
            } else {
                let u = self.unvoiced(m) * s.unvoiced;
                self.unvoiced_now = u;
                let white = white(now);
                let base = match s.carrier {
                    Carrier::Synth => {
                        let tone = self.synth.tick(now, &s.synth);
                        tone + (white - tone) * s.noise
                    }
                    Carrier::Sidechain => side.iter().map(|c| c.get(i).copied().unwrap_or(0.0)).sum::<f32>() * inv_side,
                    Carrier::Noise => white,
                };
                let c = base + (white - base) * u;
                self.bank.tick(m, c, self.att, self.rel) * s.level
            };
            let amount = s.mix * fade[i];
            for ch in chans[..channels].iter_mut() {
                let x = ch[i];
                ch[i] = x + (wet - x) * amount;
            }
        }
    }

    /// Band `k`'s modulator level, as an amplitude.
    pub fn band_level(&self, k: usize) -> f32 {
        self.bank.level(k)
    }

    pub fn has_subnormal(&self) -> bool {
        self.bank.has_subnormal()
    }
}
