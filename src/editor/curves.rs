//! The filters' combined magnitude response and the compressor's static curve, drawn from the
//! same formulas the DSP is tested against, with the compressor's live operating point.

use crate::dsp::compressor::static_curve_db;
use crate::dsp::svf::{Filter, Mode, Slope};
use egui::{Color32, Sense, Shape, Stroke, Vec2};

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

pub fn draw_filters(ui: &mut egui::Ui, curve: &FilterCurve, size: Vec2) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(18));
    let hi = 20_000f32.min(curve.sample_rate * 0.499);
    let (lo, top, bottom) = (20.0f32, 6.0f32, -36.0f32);
    let y_of = |db: f32| rect.top() + rect.height() * ((top - db) / (top - bottom)).clamp(0.0, 1.0);
    let grid = Stroke::new(1.0, Color32::from_gray(45));
    for f in [100.0f32, 1_000.0, 10_000.0] {
        painter.vline(rect.left() + rect.width() * (f / lo).ln() / (hi / lo).ln(), rect.y_range(), grid);
    }
    for db in [0.0, -12.0, -24.0] {
        painter.hline(rect.x_range(), y_of(db), grid);
    }
    let n = rect.width().max(2.0) as usize;
    let points: Vec<egui::Pos2> = (0..=n)
        .map(|i| {
            let f = lo * (hi / lo).powf(i as f32 / n as f32);
            egui::pos2(rect.left() + i as f32 * rect.width() / n as f32, y_of(curve.gain_db(f)))
        })
        .collect();
    painter.add(Shape::line(points, Stroke::new(1.5, Color32::from_rgb(120, 210, 140))));
    painter.text(rect.left_top() + Vec2::new(3.0, 2.0), egui::Align2::LEFT_TOP, "0 dB", egui::FontId::monospace(9.0), Color32::GRAY);
}

/// The EQ's curve (the bands' analog prototypes, which the running bands follow within 0.1 dB)
/// over ±24 dB, with a dot at each band that acts.
pub fn draw_eq(ui: &mut egui::Ui, s: &crate::dsp::eq::EqSettings, on: bool, size: Vec2) {
    use crate::dsp::eq::design::{analog_db, Band};
    use crate::dsp::eq::KINDS;
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(18));
    let (lo, hi, range) = (20.0f32, 20_000.0f32, 24.0f32);
    let x_of = |f: f32| rect.left() + rect.width() * (f / lo).ln() / (hi / lo).ln();
    let y_of = |db: f32| rect.center().y - rect.height() * 0.5 * (db / range).clamp(-1.0, 1.0);
    let grid = Stroke::new(1.0, Color32::from_gray(45));
    for f in [100.0f32, 1_000.0, 10_000.0] {
        painter.vline(x_of(f), rect.y_range(), grid);
    }
    for db in [-12.0, 0.0, 12.0] {
        painter.hline(rect.x_range(), y_of(db), grid);
    }
    let bands: Vec<Band> = s
        .bands
        .iter()
        .zip(KINDS)
        .filter(|(b, _)| b.on && b.gain_db != 0.0)
        .map(|(b, kind)| Band { kind, freq: b.freq as f64, gain_db: b.gain_db as f64, q: b.q as f64 })
        .collect();
    let db_at = |f: f32| bands.iter().map(|b| analog_db(b, f as f64)).sum::<f64>() as f32;
    let n = rect.width().max(2.0) as usize;
    let points: Vec<egui::Pos2> = (0..=n)
        .map(|i| {
            let f = lo * (hi / lo).powf(i as f32 / n as f32);
            egui::pos2(rect.left() + i as f32 * rect.width() / n as f32, y_of(db_at(f)))
        })
        .collect();
    let colour = if on { Color32::from_rgb(120, 190, 240) } else { Color32::from_gray(110) };
    painter.add(Shape::line(points, Stroke::new(1.5, colour)));
    for b in &bands {
        let f = b.freq as f32;
        painter.circle_filled(egui::pos2(x_of(f), y_of(db_at(f))), 3.5, colour);
    }
    painter.text(rect.left_top() + Vec2::new(3.0, 2.0), egui::Align2::LEFT_TOP, "±24 dB", egui::FontId::monospace(9.0), Color32::GRAY);
}

/// A round light: green while the gate is open, dim red while it is closed, with its gain.
pub fn gate_light(ui: &mut egui::Ui, open: bool, gain_db: f32) {
    ui.horizontal(|ui| {
        let (rect, _) = ui.allocate_exact_size(Vec2::new(14.0, 14.0), Sense::hover());
        let colour = if open { Color32::from_rgb(60, 220, 90) } else { Color32::from_rgb(110, 40, 40) };
        ui.painter().circle_filled(rect.center(), 6.0, colour);
        ui.label(if open { "open".to_string() } else { format!("closed ({gain_db:.0} dB)") });
    });
}

/// The compressor's input → output curve (−60…0 dB on both axes) and a dot at the level the
/// detector saw last.
pub fn draw_compressor(ui: &mut egui::Ui, threshold: f32, ratio: f32, knee: f32, input_db: f32, on: bool, size: f32) {
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(size), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(18));
    let (lo, hi) = (-60.0f32, 0.0f32);
    let x_of = |db: f32| rect.left() + rect.width() * ((db - lo) / (hi - lo)).clamp(0.0, 1.0);
    let y_of = |db: f32| rect.bottom() - rect.height() * ((db - lo) / (hi - lo)).clamp(0.0, 1.0);
    let grid = Stroke::new(1.0, Color32::from_gray(45));
    for db in [-48.0, -36.0, -24.0, -12.0] {
        painter.vline(x_of(db), rect.y_range(), grid);
        painter.hline(rect.x_range(), y_of(db), grid);
    }
    painter.line_segment([egui::pos2(x_of(lo), y_of(lo)), egui::pos2(x_of(hi), y_of(hi))], Stroke::new(1.0, Color32::from_gray(70)));
    let n = 120;
    let points: Vec<egui::Pos2> = (0..=n)
        .map(|i| {
            let x = lo + (hi - lo) * i as f32 / n as f32;
            egui::pos2(x_of(x), y_of(static_curve_db(x, threshold, ratio, knee)))
        })
        .collect();
    let color = if on { Color32::from_rgb(230, 160, 60) } else { Color32::from_gray(110) };
    painter.add(Shape::line(points, Stroke::new(1.5, color)));
    if on && input_db > lo {
        let x = input_db.min(hi);
        painter.circle_filled(egui::pos2(x_of(x), y_of(static_curve_db(x, threshold, ratio, knee))), 3.5, Color32::WHITE);
    }
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
