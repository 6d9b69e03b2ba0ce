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
    (440.0 * 2f64.powf((note as f64 - 69.0) / 12.0)) as f32
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

/// One cycle in phase units: phases are 32-bit fixed point, so a phase is a pure function of the
/// stream clock (`dt · (now − start)`, exact modulo 2³²), never an accumulated float: a synth
/// that skipped a silence is where one that ran all along would be.
const CYCLE: f32 = 4_294_967_296.0;

#[derive(Debug, Clone, Copy, Default)]
struct Voice {
    note: u8,
    /// Phase step per sample, in 2⁻³² cycles.
    dt: u32,
    /// The stream sample its phase counts from.
    start: u64,
    amp: f32,
    peak: f32,
    held: bool,
}

impl Voice {
    fn sounding(&self) -> bool {
        self.held || self.amp > 0.0
    }

    #[inline]
    fn tick(&mut self, now: u64, wave: Wave, up: f32, down: f32) -> f32 {
        let target = if self.held { self.peak } else { 0.0 };
        self.amp = if self.amp < target { (self.amp + up).min(target) } else { (self.amp - down).max(target) };
        if self.amp <= 0.0 && !self.held {
            return 0.0;
        }
        let phase = self.dt.wrapping_mul(now.wrapping_sub(self.start) as u32);
        let at = |offset: u32| phase.wrapping_add(offset) as f32 / CYCLE;
        let dt = self.dt as f32 / CYCLE;
        let y = match wave {
            Wave::Saw => saw(at(0), dt),
            Wave::Square => saw(at(0), dt) - saw(at(1 << 31), dt),
            Wave::Pulse => saw(at(0), dt) - saw(at(1 << 30), dt),
        };
        y * self.amp
    }

    /// Its amplitude after `frames` samples of gliding to its target.
    fn skip(&mut self, frames: u64, up: f32, down: f32) {
        let target = if self.held { self.peak } else { 0.0 };
        let reach = frames as f32 * if self.amp < target { up } else { down };
        self.amp = if (target - self.amp).abs() <= reach { target } else { self.amp + reach.copysign(target - self.amp) };
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
    /// The stream clock as of the last tick (note-ons start their phase there).
    clock: u64,
    /// When each MIDI voice was taken (for stealing the oldest).
    taken: [u64; MIDI_VOICES],
    chord_key: Option<(u8, Chord)>,
    up: f32,
    down: f32,
}

impl Default for Synth {
    fn default() -> Self {
        let mut s = Self {
            fs: 48_000.0,
            voices: [Voice::default(); VOICES],
            clock: 0,
            taken: [0; MIDI_VOICES],
            chord_key: None,
            up: 0.0,
            down: 0.0,
        };
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
        self.taken = [0; MIDI_VOICES];
        self.chord_key = None;
        self.clock = 0;
    }

    /// A note's phase step, in 2⁻³² cycles per sample (at most 0.45 of a cycle).
    fn tune(&self, note: u8) -> u32 {
        ((note_hz(note as f32) / self.fs).min(0.45) as f64 * CYCLE as f64) as u32
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
            .or_else(|| midi.iter().zip(&self.taken).enumerate().min_by_key(|(_, (v, t))| (v.held, **t)).map(|(i, _)| i))
            .unwrap_or(0);
        let dt = self.tune(note);
        self.taken[slot] = self.clock;
        let v = &mut self.voices[slot];
        // A voice still sounding keeps its phase running (no jump); a silent one starts at 0.
        let start = if v.sounding() && v.dt == dt { v.start } else { self.clock };
        *v = Voice { note, dt, start, peak, held: true, ..*v };
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
        let now = self.clock;
        for (i, v) in self.voices[MIDI_VOICES..].iter_mut().enumerate() {
            let held = want && i < n;
            if held && !v.sounding() {
                // From silence, its phase counts from now: the chord starts the same way
                // whenever it starts.
                v.start = now;
            }
            v.held = held;
        }
    }

    /// One sample of the carrier at stream sample `now`.
    #[inline]
    pub fn tick(&mut self, now: u64, s: &SynthSettings) -> f32 {
        self.clock = now;
        if now.is_multiple_of(crate::dsp::CONTROL as u64) {
            self.update_chord(s);
        }
        let (up, down) = (self.up, self.down);
        let mut y = 0.0;
        for v in &mut self.voices {
            y += v.tick(now, s.wave, up, down);
        }
        // About a voice's level whatever the count (the bank normalises each band anyway).
        0.5 * y
    }

    /// `frames` samples passed unheard (the chain idle): every voice's amplitude where those
    /// samples would have taken it (phases need nothing: they follow the clock).
    pub fn skip(&mut self, frames: u64) {
        let (up, down) = (self.up, self.down);
        for v in &mut self.voices {
            v.skip(frames, up, down);
        }
    }

    /// Sets the clock note-ons are timed from (events applied outside `tick`).
    pub fn set_clock(&mut self, now: u64) {
        self.clock = now;
    }
}
