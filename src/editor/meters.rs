//! Drawing of the level meters: one vertical bar per channel, with peak-hold line and clip light.

use crate::analysis::peak::{PeakBallistics, FLOOR_DB};
use egui::{Color32, Rect, Sense, Stroke, Vec2};

const TOP_DB: f32 = 6.0;

fn db_to_y(db: f32, rect: Rect) -> f32 {
    let t = ((db - FLOOR_DB) / (TOP_DB - FLOOR_DB)).clamp(0.0, 1.0);
    rect.bottom() - t * rect.height()
}

/// Draws a labelled group of channel meters; clicking a clip light clears it.
pub fn meter_group(ui: &mut egui::Ui, label: &str, meters: &mut [PeakBallistics]) {
    ui.vertical(|ui| {
        ui.label(label);
        ui.horizontal(|ui| {
            for m in meters.iter_mut() {
                channel_meter(ui, m);
            }
        });
        let peak = meters.iter().map(|m| m.hold_db).fold(FLOOR_DB, f32::max);
        ui.label(if peak <= FLOOR_DB { "-inf".to_string() } else { format!("{peak:.1} dB") });
    });
}

fn channel_meter(ui: &mut egui::Ui, m: &mut PeakBallistics) {
    let height = (ui.available_height() - 40.0).max(400.0);
    let (rect, response) = ui.allocate_exact_size(Vec2::new(14.0, height), Sense::click());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(24));
    let meter = Rect::from_min_max(egui::pos2(rect.left(), rect.top() + 10.0), rect.max);
    let y = db_to_y(m.level_db, meter);
    let color = if m.level_db > -0.1 {
        Color32::from_rgb(230, 60, 50)
    } else if m.level_db > -12.0 {
        Color32::from_rgb(230, 200, 60)
    } else {
        Color32::from_rgb(70, 200, 110)
    };
    painter.rect_filled(Rect::from_min_max(egui::pos2(meter.left(), y), meter.max), 1.0, color);
    let hy = db_to_y(m.hold_db, meter);
    painter.line_segment([egui::pos2(meter.left(), hy), egui::pos2(meter.right(), hy)], Stroke::new(1.5, Color32::WHITE));
    let clip = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 8.0));
    painter.rect_filled(clip, 1.0, if m.clipped { Color32::RED } else { Color32::from_gray(50) });
    for db in [0.0f32, -6.0, -12.0, -24.0, -48.0] {
        let ty = db_to_y(db, meter);
        painter.line_segment([egui::pos2(meter.right() - 4.0, ty), egui::pos2(meter.right(), ty)], Stroke::new(1.0, Color32::GRAY));
    }
    if response.clicked() {
        m.reset_clip();
    }
}

/// A horizontal bar growing to the left from 0 dB, for the compressor's gain reduction.
pub fn gain_reduction_bar(ui: &mut egui::Ui, gr_db: f32) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(160.0, 12.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(24));
    let t = (-gr_db / 24.0).clamp(0.0, 1.0);
    let bar = Rect::from_min_max(egui::pos2(rect.right() - t * rect.width(), rect.top()), rect.max);
    painter.rect_filled(bar, 1.0, Color32::from_rgb(230, 140, 40));
    painter.text(rect.left_center(), egui::Align2::LEFT_CENTER, format!("{gr_db:.1} dB"), egui::FontId::monospace(10.0), Color32::WHITE);
}
