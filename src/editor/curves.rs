//! Pictures the detail area draws without taking the mouse: the filters' magnitude response
//! (from the same formulas the DSP is tested against), the vocoder's band levels, the delay's
//! taps and the reverb's decay.

use crate::dsp::svf::{Filter, Mode, Slope};
use egui::{Color32, Stroke, Vec2};

/// The settings the filter curve shows.
pub struct FilterCurve {
    pub hp: Option<(f32, Slope)>,
    pub lp: Option<(f32, Slope)>,
    pub sample_rate: f32,
}

impl FilterCurve {
    /// The chain's filter gain at `freq`, dB.
    pub fn gain_db(&self, freq: f32) -> f32 {
        let sr = self.sample_rate as f64;
        let mut g = 1.0;
        if let Some((fc, slope)) = self.hp {
            g *= Filter::analytic_magnitude(Mode::HighPass, slope, fc as f64, sr, freq as f64);
        }
        if let Some((fc, slope)) = self.lp {
            g *= Filter::analytic_magnitude(Mode::LowPass, slope, fc as f64, sr, freq as f64);
        }
        (20.0 * g.max(1e-9).log10()) as f32
    }
}

/// The vocoder's band levels as bars from −60 to 0 dBFS (low bands left), with the notes held
/// and how unvoiced the voice is.
pub fn vocoder_bands(ui: &egui::Ui, rect: egui::Rect, bridge: &crate::bridge::Bridge, on: bool) {
    use std::sync::atomic::Ordering;
    let count = band_count(bridge);
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(18));
    if on {
        // Below the line of text.
        band_bars(&painter, egui::Rect::from_min_max(rect.min + Vec2::new(0.0, 16.0), rect.max), bridge, 0.5);
    }
    let notes = bridge.voc_notes.load(Ordering::Relaxed);
    let unvoiced = bridge.voc_unvoiced.load(Ordering::Relaxed);
    let text = format!("{count} bands · {notes} MIDI notes held · unvoiced {:.0} %", 100.0 * unvoiced);
    painter.text(rect.left_top() + Vec2::new(4.0, 2.0), egui::Align2::LEFT_TOP, text, egui::FontId::proportional(10.0), Color32::GRAY);
}

/// How many bands the vocoder runs now.
pub fn band_count(bridge: &crate::bridge::Bridge) -> usize {
    (bridge.voc_bands.load(std::sync::atomic::Ordering::Relaxed) as usize).clamp(1, bridge.voc_levels.len())
}

/// One bar per vocoder band across `rect`, low bands left, from −60 dBFS at the bottom to 0 at
/// the top, with `gap` points left clear at each side of a bar.
pub fn band_bars(painter: &egui::Painter, rect: egui::Rect, bridge: &crate::bridge::Bridge, gap: f32) {
    let count = band_count(bridge);
    let w = rect.width() / count as f32;
    for (k, level) in bridge.voc_levels.iter().take(count).enumerate() {
        let db = crate::dsp::gain_to_db(level.load(std::sync::atomic::Ordering::Relaxed));
        let h = ((db + 60.0) / 60.0).clamp(0.0, 1.0) * rect.height();
        let x = rect.left() + k as f32 * w;
        let bar = egui::Rect::from_min_max(egui::pos2(x + gap, rect.bottom() - h), egui::pos2((x + w - gap).max(x + 1.0), rect.bottom()));
        painter.rect_filled(bar, 0.0, Color32::from_rgb(90, 170, 230));
    }
}

/// The delay's echoes on a time line: one tap per repeat, its height the repeat's level
/// (feedback to the power of the repeat), above the line for left and below for right when
/// ping-pong alternates them.
pub fn delay_taps(ui: &egui::Ui, rect: egui::Rect, time_ms: f32, synced: Option<String>, feedback: f32, ping_pong: bool, on: bool) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(18));
    let span_ms = (time_ms * 8.0).max(100.0);
    let x_of = |ms: f32| rect.left() + 8.0 + (rect.width() - 16.0) * ms / span_ms;
    let mid = rect.center().y;
    let half = rect.height() * 0.5 - 14.0;
    painter.hline(rect.x_range(), mid, Stroke::new(1.0, Color32::from_gray(60)));
    let colour = if on { Color32::from_rgb(120, 190, 245) } else { Color32::from_gray(110) };
    painter.line_segment([egui::pos2(x_of(0.0), mid - half), egui::pos2(x_of(0.0), mid)], Stroke::new(3.0, Color32::from_gray(200)));
    let mut level = 1.0f32;
    for n in 1..=8 {
        let sign = if ping_pong && n % 2 == 0 { 1.0 } else { -1.0 };
        painter.line_segment(
            [egui::pos2(x_of(n as f32 * time_ms), mid), egui::pos2(x_of(n as f32 * time_ms), mid + sign * half * level)],
            Stroke::new(3.0, colour),
        );
        level *= feedback;
    }
    let label = match synced {
        Some(note) => format!("synced: {note} (taps drawn at {time_ms:.0} ms)"),
        None => {
            format!("{time_ms:.0} ms · feedback {:.0} %{}", feedback * 100.0, if ping_pong { " · ping-pong (L up, R down)" } else { "" })
        }
    };
    painter.text(rect.left_top() + Vec2::new(4.0, 2.0), egui::Align2::LEFT_TOP, label, egui::FontId::proportional(10.0), Color32::GRAY);
}

/// The reverb's decay: level in dB against time, silent through the pre-delay, early
/// reflections as spikes, then a straight fall of 60 dB over the decay time.
pub fn reverb_decay(ui: &egui::Ui, rect: egui::Rect, predelay_ms: f32, decay_s: f32, early: f32, on: bool) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(18));
    let span_s = (predelay_ms / 1000.0 + decay_s) * 1.15;
    let x_of = |s: f32| rect.left() + 8.0 + (rect.width() - 16.0) * s / span_s;
    let y_of = |db: f32| rect.top() + 16.0 + (rect.height() - 24.0) * (-db / 72.0).clamp(0.0, 1.0);
    let grid = Stroke::new(1.0, Color32::from_gray(40));
    for db in [-20.0, -40.0, -60.0] {
        painter.hline(rect.x_range(), y_of(db), grid);
    }
    let colour = if on { Color32::from_rgb(190, 150, 240) } else { Color32::from_gray(110) };
    let start = predelay_ms / 1000.0;
    for k in 0..6 {
        let t = start + 0.007 * (k as f32 + 1.0) * 1.7;
        painter.line_segment(
            [egui::pos2(x_of(t), y_of(-6.0 - 4.0 * k as f32 - 40.0 * (1.0 - early))), egui::pos2(x_of(t), y_of(-72.0))],
            Stroke::new(1.5, colour.gamma_multiply(0.7)),
        );
    }
    painter.line_segment([egui::pos2(x_of(start), y_of(0.0)), egui::pos2(x_of(start + decay_s), y_of(-60.0))], Stroke::new(2.0, colour));
    painter.vline(x_of(start + decay_s), rect.y_range(), Stroke::new(1.0, Color32::from_gray(90)));
    painter.text(
        rect.left_top() + Vec2::new(4.0, 2.0),
        egui::Align2::LEFT_TOP,
        format!("−60 dB after {decay_s:.2} s · pre-delay {predelay_ms:.0} ms"),
        egui::FontId::proportional(10.0),
        Color32::GRAY,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_curve_is_the_product_of_both_filters() {
        // A 100 Hz high-pass and a 5 kHz low-pass, 12 dB/oct Butterworth: −3.01 dB at each
        // cutoff (plus the other filter's small contribution), ~0 dB between them.
        let c = FilterCurve { hp: Some((100.0, Slope::Db12)), lp: Some((5_000.0, Slope::Db12)), sample_rate: 48_000.0 };
        assert!((c.gain_db(100.0) + 3.01).abs() < 0.02, "{}", c.gain_db(100.0));
        assert!((c.gain_db(5_000.0) + 3.01).abs() < 0.02, "{}", c.gain_db(5_000.0));
        assert!(c.gain_db(700.0).abs() < 0.05);
        // An octave below the high-pass: 12 dB/oct → about −12.3 dB (Butterworth, 1/√(1+2⁴)).
        let want = -10.0 * (1.0f32 + 16.0).log10();
        assert!((c.gain_db(50.0) - want).abs() < 0.05, "{} vs {want}", c.gain_db(50.0));
        let none = FilterCurve { hp: None, lp: None, sample_rate: 48_000.0 };
        assert_eq!(none.gain_db(1_000.0), 0.0);
    }
}
