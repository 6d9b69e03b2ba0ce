//! The parameter tree. Every `#[id]` here is a promise to every saved project: never rename one.
//! Values are stored in the units the user sees (dB, %, ms, Hz) and smoothed per sample.

use nice_plug::prelude::*;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

use crate::editor::EditorSize;
use crate::state::STATE_SCHEMA;

/// Smoothing time for gains and mixes: long enough to avoid zipper noise, short enough to feel
/// immediate under a fader.
pub const GAIN_SMOOTH_MS: f32 = 20.0;

#[derive(Params)]
pub struct LivechainParams {
    /// Version of the saved-state layout (see `state.rs`); migrations key off it.
    #[persist = "schema"]
    pub schema: AtomicU32,

    /// Window size and zoom, remembered with the project.
    #[persist = "editor"]
    pub editor_size: Arc<EditorSize>,

    #[nested(group = "Input")]
    pub input: InputParams,

    #[nested(group = "Filters")]
    pub filters: FilterParams,

    #[nested(group = "Dynamics")]
    pub dynamics: DynamicsParams,

    #[nested(group = "Delay")]
    pub delay: DelayParams,

    #[nested(group = "Reverb")]
    pub reverb: ReverbParams,

    #[nested(group = "Output")]
    pub output: OutputParams,
}

#[derive(Params)]
pub struct InputParams {
    #[id = "in_gain"]
    pub gain: FloatParam,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlopeParam {
    #[id = "12"]
    #[name = "12 dB/oct"]
    Db12,
    #[id = "24"]
    #[name = "24 dB/oct"]
    Db24,
}

#[derive(Params)]
pub struct FilterParams {
    #[id = "hp_on"]
    pub hp_on: BoolParam,
    #[id = "hp_freq"]
    pub hp_freq: FloatParam,
    #[id = "hp_slope"]
    pub hp_slope: EnumParam<SlopeParam>,
    #[id = "lp_on"]
    pub lp_on: BoolParam,
    #[id = "lp_freq"]
    pub lp_freq: FloatParam,
    #[id = "lp_slope"]
    pub lp_slope: EnumParam<SlopeParam>,
}

#[derive(Params)]
pub struct DynamicsParams {
    #[id = "agc_on"]
    pub agc_on: BoolParam,
    #[id = "agc_target"]
    pub agc_target: FloatParam,
    #[id = "agc_range"]
    pub agc_range: FloatParam,
    #[id = "agc_speed"]
    pub agc_speed: FloatParam,
    #[id = "agc_gate"]
    pub agc_gate: FloatParam,

    #[id = "comp_on"]
    pub comp_on: BoolParam,
    #[id = "comp_thresh"]
    pub threshold: FloatParam,
    #[id = "comp_ratio"]
    pub ratio: FloatParam,
    #[id = "comp_knee"]
    pub knee: FloatParam,
    #[id = "comp_attack"]
    pub attack: FloatParam,
    #[id = "comp_release"]
    pub release: FloatParam,
    #[id = "comp_makeup"]
    pub makeup: FloatParam,
    #[id = "comp_automakeup"]
    pub auto_makeup: BoolParam,
    /// Not smoothed: it changes the plugin's latency, which hosts re-read on a restart.
    #[id = "comp_lookahead"]
    pub lookahead: FloatParam,
}

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

#[derive(Params)]
pub struct ReverbParams {
    #[id = "rev_on"]
    pub on: BoolParam,
    #[id = "rev_predelay"]
    pub predelay: FloatParam,
    #[id = "rev_size"]
    pub size: FloatParam,
    #[id = "rev_decay"]
    pub decay: FloatParam,
    #[id = "rev_damping"]
    pub damping: FloatParam,
    #[id = "rev_mod"]
    pub modulation: FloatParam,
    #[id = "rev_width"]
    pub width: FloatParam,
    #[id = "rev_early"]
    pub early: FloatParam,
    #[id = "rev_mix"]
    pub mix: FloatParam,
}

#[derive(Params)]
pub struct OutputParams {
    #[id = "out_gain"]
    pub gain: FloatParam,

    /// Dry/wet: 0 % is the (latency-compensated) input after input gain, 100 % the chain's output.
    #[id = "mix"]
    pub mix: FloatParam,

    /// The host-linked bypass: an equal-power crossfade to the untouched input.
    #[id = "bypass"]
    pub bypass: BoolParam,

    /// A safety ceiling: when on, no output sample exceeds it.
    #[id = "ceiling_on"]
    pub ceiling_on: BoolParam,
    #[id = "ceiling"]
    pub ceiling: FloatParam,
}

fn switch(name: &str, default: bool) -> BoolParam {
    BoolParam::new(name, default)
}

/// A frequency parameter on a logarithmic axis, smoothed in the log domain.
pub fn hz_param(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Skewed { min, max, factor: FloatRange::skew_factor(-2.0) })
        .with_smoother(SmoothingStyle::Logarithmic(GAIN_SMOOTH_MS))
        .with_unit(" Hz")
        // Whole hertz above 1 kHz, tenths below; typing "2.5k" or "2.5 kHz" works too.
        .with_value_to_string(Arc::new(|v| if v >= 1_000.0 { format!("{v:.0}") } else { format!("{v:.1}") }))
        .with_string_to_value(formatters::s2v_f32_hz_then_khz())
}

/// A time parameter on a logarithmic axis.
pub fn ms_param(name: &str, default: f32, min: f32, max: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Skewed { min, max, factor: FloatRange::skew_factor(-1.5) })
        .with_smoother(SmoothingStyle::Logarithmic(GAIN_SMOOTH_MS))
        .with_unit(" ms")
        .with_value_to_string(Arc::new(|v| if v < 10.0 { format!("{v:.2}") } else { format!("{v:.1}") }))
}

/// A plain linear parameter with a unit and a fixed number of decimals.
pub fn linear_param(name: &str, default: f32, min: f32, max: f32, unit: &'static str, digits: usize) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min, max })
        .with_smoother(SmoothingStyle::Linear(GAIN_SMOOTH_MS))
        .with_unit(unit)
        .with_value_to_string(formatters::v2s_f32_rounded(digits))
}

pub fn gain_db_param(name: &str, min_db: f32, max_db: f32) -> FloatParam {
    FloatParam::new(name, 0.0, FloatRange::Linear { min: min_db, max: max_db })
        .with_smoother(SmoothingStyle::Linear(GAIN_SMOOTH_MS))
        .with_unit(" dB")
        .with_step_size(0.01)
        .with_value_to_string(Arc::new(|v| format!("{v:.2}")))
}

pub fn percent_param(name: &str, default: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min: 0.0, max: 100.0 })
        .with_smoother(SmoothingStyle::Linear(GAIN_SMOOTH_MS))
        .with_unit(" %")
        .with_step_size(0.1)
        .with_value_to_string(Arc::new(|v| format!("{v:.1}")))
}

impl Default for LivechainParams {
    fn default() -> Self {
        Self {
            schema: AtomicU32::new(STATE_SCHEMA),
            editor_size: Arc::new(EditorSize::default()),
            input: InputParams { gain: gain_db_param("Input Gain", -36.0, 36.0) },
            filters: FilterParams {
                hp_on: switch("High-Pass", false),
                hp_freq: hz_param("HP Frequency", 80.0, 10.0, 20_000.0),
                hp_slope: EnumParam::new("HP Slope", SlopeParam::Db12),
                lp_on: switch("Low-Pass", false),
                lp_freq: hz_param("LP Frequency", 16_000.0, 10.0, 20_000.0),
                lp_slope: EnumParam::new("LP Slope", SlopeParam::Db12),
            },
            dynamics: DynamicsParams {
                agc_on: switch("AGC", false),
                agc_target: linear_param("AGC Target", -18.0, -36.0, -6.0, " LUFS", 1),
                agc_range: linear_param("AGC Range", 12.0, 0.0, 30.0, " dB", 1),
                agc_speed: FloatParam::new(
                    "AGC Speed",
                    3.0,
                    FloatRange::Skewed { min: 0.5, max: 20.0, factor: FloatRange::skew_factor(-1.0) },
                )
                .with_smoother(SmoothingStyle::Logarithmic(GAIN_SMOOTH_MS))
                .with_unit(" s")
                .with_value_to_string(formatters::v2s_f32_rounded(2)),
                agc_gate: linear_param("AGC Gate", -50.0, -70.0, -20.0, " LUFS", 1),
                comp_on: switch("Compressor", false),
                threshold: linear_param("Threshold", -18.0, -60.0, 0.0, " dB", 1),
                ratio: FloatParam::new("Ratio", 3.0, FloatRange::Skewed { min: 1.0, max: 20.0, factor: FloatRange::skew_factor(-1.5) })
                    .with_smoother(SmoothingStyle::Linear(GAIN_SMOOTH_MS))
                    .with_value_to_string(formatters::v2s_compression_ratio(2))
                    .with_string_to_value(formatters::s2v_compression_ratio()),
                knee: linear_param("Knee", 6.0, 0.0, 24.0, " dB", 1),
                attack: ms_param("Attack", 10.0, 0.1, 200.0),
                release: ms_param("Release", 150.0, 5.0, 3_000.0),
                makeup: linear_param("Makeup", 0.0, 0.0, 24.0, " dB", 1),
                auto_makeup: switch("Auto Makeup", false),
                lookahead: FloatParam::new("Lookahead", 0.0, FloatRange::Linear { min: 0.0, max: 10.0 })
                    .with_unit(" ms")
                    .with_step_size(0.1)
                    .with_value_to_string(formatters::v2s_f32_rounded(1)),
            },
            delay: DelayParams {
                on: switch("Delay", false),
                time: ms_param("Delay Time", 350.0, 1.0, 2_000.0),
                sync: switch("Tempo Sync", false),
                note: EnumParam::new("Note", NoteParam::Eighth),
                feel: EnumParam::new("Feel", FeelParam::Dotted),
                feedback: linear_param("Feedback", 35.0, 0.0, 95.0, " %", 1),
                tone: hz_param("Delay Tone", 6_000.0, 200.0, 20_000.0),
                ping_pong: switch("Ping-Pong", false),
                mix: linear_param("Delay Level", 25.0, 0.0, 100.0, " %", 1),
            },
            reverb: ReverbParams {
                on: switch("Reverb", false),
                // Linear smoothing: its range starts at zero, where log smoothing is undefined.
                predelay: FloatParam::new(
                    "Pre-Delay",
                    10.0,
                    FloatRange::Skewed { min: 0.0, max: 200.0, factor: FloatRange::skew_factor(-1.5) },
                )
                .with_smoother(SmoothingStyle::Linear(GAIN_SMOOTH_MS))
                .with_unit(" ms")
                .with_value_to_string(formatters::v2s_f32_rounded(1)),
                size: linear_param("Size", 50.0, 0.0, 100.0, " %", 1),
                decay: FloatParam::new("Decay", 1.2, FloatRange::Skewed { min: 0.2, max: 20.0, factor: FloatRange::skew_factor(-1.5) })
                    .with_smoother(SmoothingStyle::Logarithmic(GAIN_SMOOTH_MS))
                    .with_unit(" s")
                    .with_value_to_string(formatters::v2s_f32_rounded(2)),
                damping: linear_param("Damping", 40.0, 0.0, 100.0, " %", 1),
                modulation: linear_param("Modulation", 20.0, 0.0, 100.0, " %", 1),
                width: linear_param("Width", 100.0, 0.0, 100.0, " %", 1),
                early: linear_param("Early Reflections", 30.0, 0.0, 100.0, " %", 1),
                mix: linear_param("Reverb Level", 20.0, 0.0, 100.0, " %", 1),
            },
            output: OutputParams {
                gain: gain_db_param("Output Gain", -60.0, 24.0),
                mix: percent_param("Dry/Wet", 100.0),
                bypass: BoolParam::new("Bypass", false).make_bypass(),
                ceiling_on: switch("Safety Ceiling", false),
                ceiling: FloatParam::new("Ceiling", -0.3, FloatRange::Linear { min: -24.0, max: 0.0 })
                    .with_smoother(SmoothingStyle::Linear(GAIN_SMOOTH_MS))
                    .with_unit(" dBFS")
                    .with_step_size(0.1)
                    .with_value_to_string(formatters::v2s_f32_rounded(1)),
            },
        }
    }
}
