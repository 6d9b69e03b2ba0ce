//! The parameter tree: one nested group per stage (each declared beside its stage in `stages/`),
//! plus the input and output groups. Every `#[id]` is a promise to every saved project: never
//! rename one. Values are stored in the units the user sees (dB, %, ms, Hz) and smoothed per
//! sample. The order of the groups is the order hosts list the parameters in: keep it.

use nice_plug::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, RwLock};

use crate::param_kinds::{gain_db_param, percent_param, switch, GAIN_SMOOTH_MS};
use crate::stages::agc::AgcParams;
use crate::stages::compressor::CompressorParams;
use crate::stages::deesser::DeEsserParams;
use crate::stages::delay::DelayParams;
use crate::stages::eq::EqParams;
use crate::stages::feedback::FeedbackParams;
use crate::stages::filters::FilterParams;
use crate::stages::gate::GateParams;
use crate::stages::reverb::ReverbParams;
use crate::stages::vocoder::VocoderParams;

/// The saved-state layout this build writes (see `state.rs` for the migrations).
pub const STATE_SCHEMA: u32 = 5;

/// The editor's size and zoom, saved with the project.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct EditorGeometry {
    pub width: u32,
    pub height: u32,
    pub zoom: f32,
}

impl Default for EditorGeometry {
    fn default() -> Self {
        Self { width: 1180, height: 860, zoom: 1.0 }
    }
}

pub type EditorSize = RwLock<EditorGeometry>;

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

    #[nested(group = "Feedback")]
    pub feedback: FeedbackParams,

    #[nested(group = "Gate")]
    pub gate: GateParams,

    #[nested(group = "EQ")]
    pub eq: EqParams,

    #[nested(group = "AGC")]
    pub agc: AgcParams,

    #[nested(group = "Compressor")]
    pub comp: CompressorParams,

    #[nested(group = "De-esser")]
    pub deess: DeEsserParams,

    #[nested(group = "Vocoder")]
    pub vocoder: VocoderParams,

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

impl Default for LivechainParams {
    fn default() -> Self {
        Self {
            schema: AtomicU32::new(STATE_SCHEMA),
            editor_size: Arc::new(EditorSize::default()),
            input: InputParams { gain: gain_db_param("Input Gain", -36.0, 36.0) },
            filters: FilterParams::default(),
            feedback: FeedbackParams::default(),
            gate: GateParams::default(),
            eq: EqParams::default(),
            agc: AgcParams::default(),
            comp: CompressorParams::default(),
            deess: DeEsserParams::default(),
            vocoder: VocoderParams::default(),
            delay: DelayParams::default(),
            reverb: ReverbParams::default(),
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
