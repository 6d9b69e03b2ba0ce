//! The vocoder's built-in carrier: a small polyphonic synth (band-limited saw, square or 25 %
//! pulse by polyBLEP, plus white noise) played by MIDI notes, with a chord that sounds while no
//! note is held.

/// Voices MIDI notes may take.
pub const MIDI_VOICES: usize = 8;
/// Voices of the held chord.
pub const CHORD_VOICES: usize = 4;
const VOICES: usize = MIDI_VOICES + CHORD_VOICES;

/// A note's amplitude rises over 5 ms and falls over 60 ms: no click at either end.
const ATTACK_S: f32 = 0.005;
const RELEASE_S: f32 = 0.060;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wave {
    Saw,
    Square,
    Pulse,
}

/// Intervals of the held chord, semitones over the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chord {
    Single,
    Octave,
    Fifth,
    Major,
    Minor,
    Sus4,
    Major7,
    Minor7,
}

impl Chord {
    pub fn intervals(self) -> &'static [u8] {
        match self {
            Chord::Single => &[0],
            Chord::Octave => &[0, 12],
            Chord::Fifth => &[0, 7, 12],
            Chord::Major => &[0, 4, 7, 12],
            Chord::Minor => &[0, 3, 7, 12],
            Chord::Sus4 => &[0, 5, 7, 12],
            Chord::Major7 => &[0, 4, 7, 11],
            Chord::Minor7 => &[0, 3, 7, 10],
        }
    }
}

/// A note's frequency in equal temperament, A4 (note 69) = 440 Hz.
pub fn note_hz(note: f32) -> f32 {
    440.0 * 2f32.powf((note - 69.0) / 12.0)
}

/// The polyBLEP residual: subtracted at a saw's jump, it takes the aliasing step's harmonics
/// above Nyquist out to within a few dB (t: phase 0..1, dt: phase step).
#[inline]
fn blep(t: f32, dt: f32) -> f32 {
    if t < dt {
        let x = t / dt;
        2.0 * x - x * x - 1.0
    } else if t > 1.0 - dt {
        let x = (t - 1.0) / dt;
        x * x + 2.0 * x + 1.0
    } else {
        0.0
    }
}

#[inline]
fn saw(t: f32, dt: f32) -> f32 {
    2.0 * t - 1.0 - blep(t, dt)
}

#[derive(Debug, Clone, Copy, Default)]
struct Voice {
    note: u8,
    /// Phase step per sample (cycles).
    dt: f32,
    phase: f32,
    amp: f32,
    peak: f32,
    held: bool,
    /// When it started (for stealing the oldest).
    started: u64,
}

impl Voice {
    fn sounding(&self) -> bool {
        self.held || self.amp > 0.0
    }

    #[inline]
    fn tick(&mut self, wave: Wave, up: f32, down: f32) -> f32 {
        let target = if self.held { self.peak } else { 0.0 };
        self.amp = if self.amp < target { (self.amp + up).min(target) } else { (self.amp - down).max(target) };
        if self.amp <= 0.0 && !self.held {
            return 0.0;
        }
        let (t, dt) = (self.phase, self.dt);
        let y = match wave {
            Wave::Saw => saw(t, dt),
            Wave::Square => saw(t, dt) - saw((t + 0.5).fract(), dt),
            Wave::Pulse => saw(t, dt) - saw((t + 0.25).fract(), dt),
        };
        self.phase += dt;
        if self.phase >= 1.0 {
            self.phase -= 1.0;
        }
        y * self.amp
    }
}

/// The synth's settings for a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthSettings {
    pub wave: Wave,
    /// Whether the chord sounds while no MIDI note is held.
    pub hold: bool,
    pub root: u8,
    pub chord: Chord,
}

pub struct Synth {
    fs: f32,
    voices: [Voice; VOICES],
    clock: u64,
    chord_key: Option<(u8, Chord)>,
    up: f32,
    down: f32,
}

impl Default for Synth {
    fn default() -> Self {
        let mut s = Self { fs: 48_000.0, voices: [Voice::default(); VOICES], clock: 0, chord_key: None, up: 0.0, down: 0.0 };
        s.prepare(48_000.0);
        s
    }
}

impl Synth {
    pub fn prepare(&mut self, fs: f32) {
        self.fs = fs;
        self.up = 1.0 / (ATTACK_S * fs);
        self.down = 1.0 / (RELEASE_S * fs);
        self.reset();
    }

    pub fn reset(&mut self) {
        self.voices = [Voice::default(); VOICES];
        self.chord_key = None;
        self.clock = 0;
    }

    fn tune(&self, note: u8) -> f32 {
        (note_hz(note as f32) / self.fs).min(0.45)
    }

    pub fn note_on(&mut self, note: u8, velocity: f32) {
        let note = note.min(127);
        let peak = velocity.clamp(0.0, 1.0).max(0.05);
        let midi = &self.voices[..MIDI_VOICES];
        // The same note again, a silent voice, or the oldest one.
        let slot = midi
            .iter()
            .position(|v| v.held && v.note == note)
            .or_else(|| midi.iter().position(|v| !v.sounding()))
            .or_else(|| midi.iter().enumerate().min_by_key(|(_, v)| (v.held, v.started)).map(|(i, _)| i))
            .unwrap_or(0);
        let dt = self.tune(note);
        let v = &mut self.voices[slot];
        if !v.sounding() {
            v.phase = 0.0;
        }
        *v = Voice { note, dt, peak, held: true, started: self.clock, ..*v };
    }

    pub fn note_off(&mut self, note: u8) {
        for v in self.voices[..MIDI_VOICES].iter_mut().filter(|v| v.held && v.note == note) {
            v.held = false;
        }
    }

    pub fn all_off(&mut self) {
        for v in &mut self.voices[..MIDI_VOICES] {
            v.held = false;
        }
    }

    /// MIDI notes held now.
    pub fn held(&self) -> usize {
        self.voices[..MIDI_VOICES].iter().filter(|v| v.held).count()
    }

    /// The notes sounding (held or releasing), MIDI and chord.
    pub fn sounding_notes(&self) -> impl Iterator<Item = u8> + '_ {
        self.voices.iter().filter(|v| v.held).map(|v| v.note)
    }

    fn update_chord(&mut self, s: &SynthSettings) {
        let want = s.hold && self.held() == 0;
        let key = (s.root.min(127 - 12), s.chord);
        if self.chord_key != Some(key) {
            self.chord_key = Some(key);
            let intervals = s.chord.intervals();
            for i in 0..CHORD_VOICES {
                let dt = intervals.get(i).map(|&iv| self.tune(key.0 + iv));
                let v = &mut self.voices[MIDI_VOICES + i];
                match dt {
                    Some(dt) => {
                        v.note = key.0 + intervals[i];
                        v.dt = dt;
                        v.peak = 0.8;
                    }
                    None => v.peak = 0.0,
                }
            }
        }
        let n = s.chord.intervals().len();
        for (i, v) in self.voices[MIDI_VOICES..].iter_mut().enumerate() {
            v.held = want && i < n;
        }
    }

    /// One sample of the carrier.
    #[inline]
    pub fn tick(&mut self, s: &SynthSettings) -> f32 {
        if self.clock % crate::dsp::CONTROL as u64 == 0 {
            self.update_chord(s);
        }
        self.clock += 1;
        let (up, down) = (self.up, self.down);
        let mut y = 0.0;
        for v in &mut self.voices {
            y += v.tick(s.wave, up, down);
        }
        // About a voice's level whatever the count (the bank normalises each band anyway).
        0.5 * y
    }
}
