//! Drawing of the spectrum analyzer: a log-frequency axis from 20 Hz to 20 kHz (or Nyquist),
//! −96…0 dB, the smoothed spectrum as a filled trace and its peak hold as a thin line.

use crate::analysis::spectrum::{Analyzer, FFT_SIZE};
use egui::{Color32, Pos2, Shape, Stroke};

pub const LO_HZ: f32 = 20.0;
pub const HI_HZ: f32 = 20_000.0;
const TOP_DB: f32 = 6.0;
const BOTTOM_DB: f32 = -96.0;

/// The value of `values` (one per FFT bin) seen by pixel column [f0, f1) Hz: the largest bin in
/// it where bins are dense (high frequencies), interpolated between bins where they are sparse.
pub fn column_value(values: &[f32], f0: f32, f1: f32, sample_rate: f32) -> f32 {
    let per_bin = sample_rate / FFT_SIZE as f32;
    let b0 = f0 / per_bin;
    let b1 = f1 / per_bin;
    let last = values.len() - 1;
    let first = b0.ceil() as usize;
    let end = (b1.ceil() as usize).min(last + 1);
    if first < end {
        values[first..end].iter().copied().fold(f32::NEG_INFINITY, f32::max)
    } else {
        let i = (b0.floor() as usize).min(last - 1);
        let t = (b0 - i as f32).clamp(0.0, 1.0);
        values[i] + t * (values[i + 1] - values[i])
    }
}

/// The spectrum painted into `rect`, behind whatever is drawn over it afterwards.
pub fn paint(ui: &egui::Ui, rect: egui::Rect, analyzer: &Analyzer, sample_rate: f32, db_labels: bool) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(18));
    let hi = HI_HZ.min(sample_rate * 0.5);
    let x_of = |f: f32| rect.left() + rect.width() * (f / LO_HZ).ln() / (hi / LO_HZ).ln();
    let y_of = |db: f32| rect.top() + rect.height() * ((TOP_DB - db) / (TOP_DB - BOTTOM_DB)).clamp(0.0, 1.0);
    let grid = Stroke::new(1.0, Color32::from_gray(45));
    let label = |pos: Pos2, text: String, align| painter.text(pos, align, text, egui::FontId::monospace(9.0), Color32::GRAY);
    for f in [50.0, 100.0, 200.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0] {
        if f < hi {
            let x = x_of(f);
            painter.vline(x, rect.y_range(), grid);
            let text = if f >= 1000.0 { format!("{}k", f / 1000.0) } else { format!("{f}") };
            label(egui::pos2(x + 2.0, rect.bottom() - 2.0), text, egui::Align2::LEFT_BOTTOM);
        }
    }
    for db in [0.0, -24.0, -48.0, -72.0] {
        let y = y_of(db);
        painter.hline(rect.x_range(), y, grid);
        if db_labels {
            label(egui::pos2(rect.left() + 2.0, y), format!("{db}"), egui::Align2::LEFT_TOP);
        }
    }
    if !(sample_rate > 0.0) {
        return;
    }
    let columns = rect.width().max(2.0) as usize;
    let freq_at = |c: usize| LO_HZ * (hi / LO_HZ).powf(c as f32 / columns as f32);
    let mut level = Vec::with_capacity(columns + 2);
    let mut hold = Vec::with_capacity(columns);
    for c in 0..columns {
        let (f0, f1) = (freq_at(c), freq_at(c + 1));
        let x = rect.left() + c as f32 + 0.5;
        level.push(egui::pos2(x, y_of(column_value(&analyzer.level_db, f0, f1, sample_rate))));
        hold.push(egui::pos2(x, y_of(column_value(&analyzer.hold_db, f0, f1, sample_rate))));
    }
    // Filled trace: one thin quad per column (egui fills only convex shapes).
    let fill = Color32::from_rgba_unmultiplied(70, 160, 230, 70);
    for w in level.windows(2) {
        let quad = vec![w[0], w[1], egui::pos2(w[1].x, rect.bottom()), egui::pos2(w[0].x, rect.bottom())];
        painter.add(Shape::convex_polygon(quad, fill, Stroke::NONE));
    }
    painter.add(Shape::line(level, Stroke::new(1.5, Color32::from_rgb(110, 190, 245))));
    painter.add(Shape::line(hold, Stroke::new(1.0, Color32::from_rgba_unmultiplied(240, 200, 90, 160))));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_take_the_loudest_bin_or_interpolate() {
        let sr = 48_000.0;
        let per_bin = sr / FFT_SIZE as f32;
        let mut v = vec![-100.0f32; FFT_SIZE / 2 + 1];
        v[300] = -10.0;
        // A wide column containing bin 300 shows it.
        assert_eq!(column_value(&v, 290.0 * per_bin, 310.0 * per_bin, sr), -10.0);
        // A narrow column between bins 10 and 11 interpolates.
        v[10] = -20.0;
        v[11] = -40.0;
        let got = column_value(&v, 10.25 * per_bin, 10.3 * per_bin, sr);
        assert!((got - -25.0).abs() < 1e-3, "{got}");
    }
}
