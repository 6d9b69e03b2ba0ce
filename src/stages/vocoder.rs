//! The vocoder stage (`dsp::vocoder`). After the de-esser and before the delay and the reverb:
//! the voice it analyses has been cleaned, levelled and de-essed (a compressed voice gives the
//! bands steady envelopes), and the echoes and the room colour the robot, not the dry voice.
//! The carrier comes from the sidechain input, the built-in synth (played by the MIDI notes the
//! chain passes on, a chord while none is held) or noise.

use super::{lanes, Ctx, Stage, StageInfo};
use crate::bridge::Bridge;
use crate::dsp::vocoder::bank::{Layout, MAX_BANDS};
use crate::dsp::vocoder::synth::{Chord, SynthSettings, Wave};
use crate::dsp::vocoder::{Carrier, Vocoder, VocoderSettings};
use crate::dsp::{db_to_gain, MAX_CH};
use crate::param_kinds::{gain_db_param, hz_param, linear_param, ms_param, percent_param, switch};
use nice_plug::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierSource {
    /// The built-in synth, played by MIDI notes (a chord while none is held).
    #[id = "synth"]
    #[name = "Synth"]
    Synth,
    /// The sidechain input (a synth track the host routes in).
    #[id = "sidechain"]
    #[name = "Sidechain"]
    Sidechain,
    /// White noise: a whisper.
    #[id = "noise"]
    #[name = "Noise"]
    Noise,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynthWave {
    #[id = "saw"]
    #[name = "Saw"]
    Saw,
    #[id = "square"]
    #[name = "Square"]
    Square,
    #[id = "pulse"]
    #[name = "Pulse 25 %"]
    Pulse,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChordKind {
    #[id = "single"]
    #[name = "Single note"]
    Single,
    #[id = "octave"]
    #[name = "Octave"]
    Octave,
    #[id = "fifth"]
    #[name = "Fifth"]
    Fifth,
    #[id = "major"]
    #[name = "Major"]
    Major,
    #[id = "minor"]
    #[name = "Minor"]
    Minor,
    #[id = "sus4"]
    #[name = "Sus4"]
    Sus4,
    #[id = "maj7"]
    #[name = "Major 7"]
    Major7,
    #[id = "min7"]
    #[name = "Minor 7"]
    Minor7,
}

#[derive(Params)]
pub struct VocoderParams {
    #[id = "voc_on"]
    pub on: BoolParam,
    #[id = "voc_carrier"]
    pub carrier: EnumParam<CarrierSource>,
    #[id = "voc_wave"]
    pub wave: EnumParam<SynthWave>,
    /// The held chord sounds while no MIDI note is held.
    #[id = "voc_hold"]
    pub hold: BoolParam,
    #[id = "voc_root"]
    pub root: IntParam,
    #[id = "voc_chord"]
    pub chord: EnumParam<ChordKind>,
    #[id = "voc_bands"]
    pub bands: IntParam,
    #[id = "voc_lo"]
    pub lo: FloatParam,
    #[id = "voc_hi"]
    pub hi: FloatParam,
    /// Each band's width as a share of the spacing of the bands (100 %: neighbours cross at
    /// −3 dB per section).
    #[id = "voc_width"]
    pub width: FloatParam,
    #[id = "voc_attack"]
    pub attack: FloatParam,
    #[id = "voc_release"]
    pub release: FloatParam,
    /// Formant shift: the carrier's bands move this many semitones against the voice's.
    #[id = "voc_shift"]
    pub shift: FloatParam,
    /// How much the consonant detector swaps the carrier for noise.
    #[id = "voc_unvoiced"]
    pub unvoiced: FloatParam,
    /// White noise mixed into the synth carrier.
    #[id = "voc_noise"]
    pub noise: FloatParam,
    #[id = "voc_level"]
    pub level: FloatParam,
    #[id = "voc_mix"]
    pub mix: FloatParam,
}

/// A MIDI note number as its name ("C3" for 48, middle C = C4 = 60).
fn note_name() -> Arc<dyn Fn(i32) -> String + Send + Sync> {
    const NAMES: [&str; 12] = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
    Arc::new(|n| format!("{}{}", NAMES[n.rem_euclid(12) as usize], n.div_euclid(12) - 1))
}

/// A parameter's text parser, as nice-plug takes it.
type Parser = Arc<dyn Fn(&str) -> Option<i32> + Send + Sync>;

/// A note name ("C3", "f#2", "Bb4") or a number back to its MIDI number.
fn note_from_name() -> Parser {
    Arc::new(|s| {
        let s = s.trim();
        if let Ok(n) = s.parse::<i32>() {
            return Some(n);
        }
        let mut chars = s.chars();
        let base = match chars.next()?.to_ascii_uppercase() {
            'C' => 0,
            'D' => 2,
            'E' => 4,
            'F' => 5,
            'G' => 7,
            'A' => 9,
            'B' => 11,
            _ => return None,
        };
        let rest = chars.as_str();
        let (acc, octave) = match rest.chars().next() {
            Some('#') => (1, &rest[1..]),
            Some('b') if rest.len() > 1 => (-1, &rest[1..]),
            _ => (0, rest),
        };
        Some(base + acc + (octave.trim().parse::<i32>().ok()? + 1) * 12)
    })
}

impl Default for VocoderParams {
    fn default() -> Self {
        let d = VocoderSettings::default();
        Self {
            on: switch("Vocoder", false),
            carrier: EnumParam::new("Vocoder Carrier", CarrierSource::Synth),
            wave: EnumParam::new("Vocoder Wave", SynthWave::Saw),
            hold: switch("Vocoder Hold Chord", true),
            root: IntParam::new("Vocoder Root", d.synth.root as i32, IntRange::Linear { min: 24, max: 84 })
                .with_value_to_string(note_name())
                .with_string_to_value(note_from_name()),
            chord: EnumParam::new("Vocoder Chord", ChordKind::Minor),
            bands: IntParam::new("Vocoder Bands", d.layout.count as i32, IntRange::Linear { min: 4, max: MAX_BANDS as i32 }),
            lo: hz_param("Vocoder Low", d.layout.lo, 50.0, 1_000.0),
            hi: hz_param("Vocoder High", d.layout.hi, 2_000.0, 18_000.0),
            width: linear_param("Vocoder Band Width", 100.0 * d.layout.width, 50.0, 300.0, " %", 0),
            attack: ms_param("Vocoder Attack", d.attack_ms, 0.5, 100.0),
            release: ms_param("Vocoder Release", d.release_ms, 5.0, 1_000.0),
            shift: linear_param("Vocoder Formant", 0.0, -12.0, 12.0, " st", 1),
            unvoiced: percent_param("Vocoder Consonants", 100.0 * d.unvoiced),
            noise: percent_param("Vocoder Noise", 100.0 * d.noise),
            level: gain_db_param("Vocoder Level", -24.0, 24.0),
            mix: percent_param("Vocoder Dry/Wet", 100.0 * d.mix),
        }
    }
}

lanes!(VocoderLanes for VocoderParams { lo, hi, width, attack, release, shift, unvoiced, noise, level, mix });

/// The settings for sample i of a chunk: the choices read once, the lanes per sample.
fn settings(p: &VocoderParams) -> impl Fn(&VocoderLanes, usize) -> VocoderSettings {
    let carrier = match p.carrier.value() {
        CarrierSource::Synth => Carrier::Synth,
        CarrierSource::Sidechain => Carrier::Sidechain,
        CarrierSource::Noise => Carrier::Noise,
    };
    let wave = match p.wave.value() {
        SynthWave::Saw => Wave::Saw,
        SynthWave::Square => Wave::Square,
        SynthWave::Pulse => Wave::Pulse,
    };
    let chord = match p.chord.value() {
        ChordKind::Single => Chord::Single,
        ChordKind::Octave => Chord::Octave,
        ChordKind::Fifth => Chord::Fifth,
        ChordKind::Major => Chord::Major,
        ChordKind::Minor => Chord::Minor,
        ChordKind::Sus4 => Chord::Sus4,
        ChordKind::Major7 => Chord::Major7,
        ChordKind::Minor7 => Chord::Minor7,
    };
    let synth = SynthSettings { wave, hold: p.hold.value(), root: p.root.value().clamp(0, 127) as u8, chord };
    let count = p.bands.value().clamp(4, MAX_BANDS as i32) as usize;
    move |l: &VocoderLanes, i: usize| VocoderSettings {
        carrier,
        synth,
        layout: Layout { count, lo: l.lo[i], hi: l.hi[i], width: 0.01 * l.width[i], shift: l.shift[i] },
        attack_ms: l.attack[i],
        release_ms: l.release[i],
        unvoiced: 0.01 * l.unvoiced[i],
        noise: 0.01 * l.noise[i],
        level: db_to_gain(l.level[i]),
        mix: 0.01 * l.mix[i],
    }
}

impl Stage for Vocoder {
    type Params = VocoderParams;
    type Lanes = VocoderLanes;
    const INFO: StageInfo = StageInfo { name: "Vocoder", switch: "voc_on", with: &[] };

    fn is_on(p: &VocoderParams) -> bool {
        p.on.value()
    }
    fn prepare(&mut self, sample_rate: f32) {
        Vocoder::prepare(self, sample_rate);
    }
    fn reset(&mut self) {
        Vocoder::reset(self);
    }
    /// Switched on again: the bands start from silence, the notes held meanwhile still sound.
    fn restart(&mut self) {
        self.clear_bands();
    }
    /// The envelopes release (a power falling 8.7 dB per release time) while the narrowest band
    /// rings out (two sections of time constant Q/(π·f)): both are `depth_db` down after
    /// depth/8.7 of each, and three more are margin for the sections' slower start.
    fn tail_seconds(p: &VocoderParams, _: &Ctx, depth_db: f32) -> f32 {
        let layout = Layout {
            count: p.bands.value().max(4) as usize,
            lo: p.lo.value(),
            hi: p.hi.value(),
            width: 0.01 * p.width.value(),
            shift: 0.0,
        };
        let lowest = layout.lo * 2f64.powf(p.shift.value().min(0.0) as f64 / 12.0) as f32;
        let ring = layout.q() / (std::f32::consts::PI * lowest);
        (depth_db / 8.0 + 3.0) * (0.001 * p.release.value() + ring)
    }
    fn skip_silence(&mut self, frames: u64) {
        Vocoder::skip_silence(self, frames);
    }
    #[inline]
    fn process(&mut self, chans: &mut [&mut [f32]], l: &VocoderLanes, steady: bool, p: &VocoderParams, ctx: &Ctx, fade: &[f32]) {
        let n = chans.first().map_or(0, |c| c.len());
        let mut side: [&[f32]; MAX_CH] = [&[], &[]];
        for (s, c) in side.iter_mut().zip(ctx.side) {
            *s = &c[..n];
        }
        let sides = &side[..ctx.side.len().min(MAX_CH)];
        let at = settings(p);
        if steady {
            let s = at(l, 0);
            self.process_block(chans, sides, ctx.clock, |_| s, fade);
        } else {
            self.process_block(chans, sides, ctx.clock, |i| at(l, i), fade);
        }
    }
    /// Off, it still follows the notes, so a note held when it is switched on sounds.
    fn process_off(&mut self, _chans: &mut [&mut [f32]]) {
        self.apply_notes(u64::MAX);
    }
    fn publish(&mut self, bridge: &Bridge) {
        let count = self.bank().count();
        bridge.voc_bands.store(count as u32, Ordering::Relaxed);
        for (k, level) in bridge.voc_levels.iter().enumerate().take(count) {
            level.store(self.band_level(k), Ordering::Relaxed);
        }
        bridge.voc_unvoiced.store(self.unvoiced_now, Ordering::Relaxed);
        bridge.voc_notes.store(self.synth().held() as u32, Ordering::Relaxed);
    }
}
