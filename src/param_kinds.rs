//! Parameter kinds by unit: a frequency, a time, a gain, a percentage, a switch, each with its
//! range, smoother and formatter, so every stage's parameters behave alike.

use nice_plug::prelude::*;
use std::sync::Arc;

/// Smoothing time for gains and mixes: long enough to avoid zipper noise, short enough to feel
/// immediate under a fader.
pub const GAIN_SMOOTH_MS: f32 = 20.0;

pub fn switch(name: &str, default: bool) -> BoolParam {
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
