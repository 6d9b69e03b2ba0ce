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
            output: OutputParams {
                gain: gain_db_param("Output Gain", -60.0, 24.0),
                mix: percent_param("Dry/Wet", 100.0),
                bypass: BoolParam::new("Bypass", false).make_bypass(),
            },
        }
    }
}
