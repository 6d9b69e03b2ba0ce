//! The delay stage (`dsp::delay`): free or tempo-synced echoes with feedback, tone and ping-pong.

use super::{block_stage, lanes, Ctx, Stage, StageInfo};
use crate::dsp::delay::{Delay, DelaySettings};
use crate::param_kinds::{hz_param, linear_param, ms_param, switch};
use nice_plug::prelude::*;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteParam {
    #[id = "1"]
    #[name = "1/1"]
    Whole,
    #[id = "2"]
    #[name = "1/2"]
    Half,
    #[id = "4"]
    #[name = "1/4"]
    Quarter,
    #[id = "8"]
    #[name = "1/8"]
    Eighth,
    #[id = "16"]
    #[name = "1/16"]
    Sixteenth,
    #[id = "32"]
    #[name = "1/32"]
    ThirtySecond,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeelParam {
    #[id = "straight"]
    #[name = "Straight"]
    Straight,
    #[id = "dotted"]
    #[name = "Dotted"]
    Dotted,
    #[id = "triplet"]
    #[name = "Triplet"]
    Triplet,
}

impl NoteParam {
    /// Length in quarter notes (beats).
    pub fn beats(self, feel: FeelParam) -> f64 {
        let base = match self {
            NoteParam::Whole => 4.0,
            NoteParam::Half => 2.0,
            NoteParam::Quarter => 1.0,
            NoteParam::Eighth => 0.5,
            NoteParam::Sixteenth => 0.25,
            NoteParam::ThirtySecond => 0.125,
        };
        base * match feel {
            FeelParam::Straight => 1.0,
            FeelParam::Dotted => 1.5,
            FeelParam::Triplet => 2.0 / 3.0,
        }
    }
}

#[derive(Params)]
pub struct DelayParams {
    #[id = "dly_on"]
    pub on: BoolParam,
    #[id = "dly_time"]
    pub time: FloatParam,
    #[id = "dly_sync"]
    pub sync: BoolParam,
    #[id = "dly_note"]
    pub note: EnumParam<NoteParam>,
    #[id = "dly_feel"]
    pub feel: EnumParam<FeelParam>,
    #[id = "dly_feedback"]
    pub feedback: FloatParam,
    #[id = "dly_tone"]
    pub tone: FloatParam,
    #[id = "dly_pingpong"]
    pub ping_pong: BoolParam,
    #[id = "dly_mix"]
    pub mix: FloatParam,
}

impl Default for DelayParams {
    fn default() -> Self {
        Self {
            on: switch("Delay", false),
            time: ms_param("Delay Time", 350.0, 1.0, 2_000.0),
            sync: switch("Tempo Sync", false),
            note: EnumParam::new("Note", NoteParam::Eighth),
            feel: EnumParam::new("Feel", FeelParam::Dotted),
            feedback: linear_param("Feedback", 35.0, 0.0, 95.0, " %", 1),
            tone: hz_param("Delay Tone", 6_000.0, 200.0, 20_000.0),
            ping_pong: switch("Ping-Pong", false),
            mix: linear_param("Delay Level", 25.0, 0.0, 100.0, " %", 1),
        }
    }
}

impl DelayParams {
    /// The delay time in samples: the synced note at the host's tempo (when synced and the host
    /// has a tempo), or the free time `free_ms`.
    #[inline]
    pub fn delay_samples(&self, ctx: &Ctx, free_ms: f32) -> f32 {
        match ctx.tempo {
            Some(bpm) if self.sync.value() => (self.note.value().beats(self.feel.value()) * 60.0 / bpm * ctx.sample_rate as f64) as f32,
            _ => free_ms * 0.001 * ctx.sample_rate,
        }
    }
}

lanes!(DelayLanes for DelayParams { time, feedback, tone, mix });

impl Stage for Delay {
    type Params = DelayParams;
    type Lanes = DelayLanes;
    const INFO: StageInfo = StageInfo { name: "Delay", switch: "dly_on", with: &[] };

    fn is_on(p: &DelayParams) -> bool {
        p.on.value()
    }
    fn prepare(&mut self, sample_rate: f32) {
        Delay::prepare(self, sample_rate);
    }
    fn reset(&mut self) {
        Delay::reset(self);
    }
    /// Each repeat is the feedback times the one before (the tone filter only takes more away):
    /// the echoes fall by −20·log10(feedback) dB per delay time.
    fn tail_seconds(p: &DelayParams, ctx: &Ctx, depth_db: f32) -> f32 {
        let time_s = p.delay_samples(ctx, p.time.value()) / ctx.sample_rate.max(1.0);
        let feedback = (p.feedback.value() * 0.01).clamp(0.0, crate::dsp::delay::MAX_FEEDBACK);
        // The first echo comes one delay time after the input; the repeats fall from there.
        let repeats = if feedback > 0.0 { depth_db / (-20.0 * feedback.log10()) } else { 0.0 };
        time_s * (1.0 + repeats)
    }
    #[inline]
    fn process(&mut self, chans: &mut [&mut [f32]], l: &DelayLanes, steady: bool, p: &DelayParams, ctx: &Ctx, fade: &[f32]) {
        let ping_pong = p.ping_pong.value();
        let settings = |i: usize| DelaySettings {
            delay_samples: p.delay_samples(ctx, l.time[i]),
            feedback: l.feedback[i] * 0.01,
            tone_hz: l.tone[i],
            ping_pong,
            mix: l.mix[i] * 0.01,
        };
        block_stage!(self, chans, steady, settings, fade);
    }
}
