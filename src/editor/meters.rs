//! Drawing of the level meters: one vertical bar per channel (sample peak, with the 300 ms RMS
//! drawn inside it), a peak-hold line and a clip light; the gain-reduction bar; the loudness panel.

use crate::analysis::peak::{PeakBallistics, FLOOR_DB};
use egui::{Color32, Rect, Sense, Stroke, Vec2};

const TOP_DB: f32 = 6.0;
const SCALE_DB: [f32; 7] = [0.0, -6.0, -12.0, -18.0, -24.0, -36.0, -48.0];

fn db_to_y(db: f32, rect: Rect) -> f32 {
    let t = ((db - FLOOR_DB) / (TOP_DB - FLOOR_DB)).clamp(0.0, 1.0);
    rect.bottom() - t * rect.height()
}

fn db_text(db: f32) -> String {
    if db <= FLOOR_DB || !db.is_finite() {
        "-inf".to_string()
    } else {
        format!("{db:.1}")
    }
}

/// One channel's display state: peak ballistics and the RMS (dB) it shows inside the bar.
#[derive(Debug, Clone, Copy)]
pub struct ChannelMeter {
    pub peak: PeakBallistics,
    pub rms_db: f32,
}

impl Default for ChannelMeter {
    fn default() -> Self {
        Self { peak: PeakBallistics::default(), rms_db: FLOOR_DB }
    }
}

/// The loudest of the channels' readings `f` (dBFS; the floor when none is over it).
pub fn loudest(meters: &[ChannelMeter], f: impl Fn(&ChannelMeter) -> f32) -> f32 {
    meters.iter().map(f).fold(FLOOR_DB, f32::max)
}

/// Draws a labelled group of channel meters with their scale; clicking a clip light clears it.
pub fn meter_group(ui: &mut egui::Ui, label: &str, meters: &mut [ChannelMeter]) {
    ui.vertical(|ui| {
        ui.label(egui::RichText::new(label).strong());
        let height = (ui.available_height() - 56.0).max(120.0);
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 3.0;
            for m in meters.iter_mut() {
                channel_meter(ui, m, height);
            }
            scale(ui, height);
        });
        let (peak, rms) = (loudest(meters, |m| m.peak.hold_db), loudest(meters, |m| m.rms_db));
        ui.label(egui::RichText::new(format!("pk {}", db_text(peak))).monospace().size(10.5))
            .on_hover_text("Sample peak, held 1.5 s (dBFS)");
        ui.label(egui::RichText::new(format!("rms {}", db_text(rms))).monospace().size(10.5))
            .on_hover_text("RMS over 300 ms (dBFS; a full-scale sine reads −3.0)");
    });
}

fn scale(ui: &mut egui::Ui, height: f32) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(18.0, height), Sense::hover());
    let meter = Rect::from_min_max(egui::pos2(rect.left(), rect.top() + 10.0), rect.max);
    for db in SCALE_DB {
        ui.painter().text(
            egui::pos2(rect.left(), db_to_y(db, meter)),
            egui::Align2::LEFT_CENTER,
            format!("{}", db.abs()),
            egui::FontId::monospace(8.5),
            Color32::GRAY,
        );
    }
}

fn channel_meter(ui: &mut egui::Ui, m: &mut ChannelMeter, height: f32) {
    let (rect, response) = ui.allocate_exact_size(Vec2::new(14.0, height), Sense::click());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(24));
    let meter = Rect::from_min_max(egui::pos2(rect.left(), rect.top() + 10.0), rect.max);
    let level = m.peak.level_db;
    let color = if level > -0.1 {
        Color32::from_rgb(230, 60, 50)
    } else if level > -12.0 {
        Color32::from_rgb(230, 200, 60)
    } else {
        Color32::from_rgb(70, 200, 110)
    };
    painter.rect_filled(Rect::from_min_max(egui::pos2(meter.left(), db_to_y(level, meter)), meter.max), 1.0, color);
    // The RMS as a darker core inside the peak bar.
    let ry = db_to_y(m.rms_db, meter);
    painter.rect_filled(
        Rect::from_min_max(egui::pos2(meter.left() + 3.0, ry), egui::pos2(meter.right() - 3.0, meter.bottom())),
        0.0,
        Color32::from_rgb(30, 110, 170),
    );
    let hy = db_to_y(m.peak.hold_db, meter);
    painter.line_segment([egui::pos2(meter.left(), hy), egui::pos2(meter.right(), hy)], Stroke::new(1.5, Color32::WHITE));
    let clip = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 8.0));
    painter.rect_filled(clip, 1.0, if m.peak.clipped { Color32::RED } else { Color32::from_gray(50) });
    for db in SCALE_DB {
        let ty = db_to_y(db, meter);
        painter.line_segment([egui::pos2(meter.right() - 3.0, ty), egui::pos2(meter.right(), ty)], Stroke::new(1.0, Color32::GRAY));
    }
    if response.on_hover_text("Peak (bar), RMS 300 ms (inner bar), hold (line); click the light to clear a clip").clicked() {
        m.peak.reset_clip();
    }
}

/// A horizontal bar growing to the left from 0 dB, for the compressor's gain reduction.
pub fn gain_reduction_bar(ui: &mut egui::Ui, gr_db: f32) -> Rect {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(ui.available_width().clamp(60.0, 160.0), 12.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(24));
    let t = (-gr_db / 24.0).clamp(0.0, 1.0);
    let bar = Rect::from_min_max(egui::pos2(rect.right() - t * rect.width(), rect.top()), rect.max);
    painter.rect_filled(bar, 1.0, Color32::from_rgb(230, 140, 40));
    painter.text(rect.left_center(), egui::Align2::LEFT_CENTER, format!("{gr_db:.1} dB"), egui::FontId::monospace(10.0), Color32::WHITE);
    rect
}

/// The output's loudness readings, in LUFS / LU / dBTP.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoudnessReadings {
    pub momentary: f32,
    pub short_term: f32,
    pub integrated: Option<f64>,
    pub range: Option<f64>,
    pub momentary_max: f32,
    pub true_peak_db: f32,
}

/// The loudness panel; returns true when the reset button was pressed.
pub fn loudness_panel(ui: &mut egui::Ui, r: &LoudnessReadings, compact: bool) -> bool {
    let lufs = |v: f32| if v.is_finite() && v > -70.0 { format!("{v:6.1}") } else { "   ---".into() };
    let opt = |v: Option<f64>, d: usize| v.map_or("   ---".to_string(), |v| format!("{v:6.d$}"));
    ui.label(egui::RichText::new(if compact { "Loudness" } else { "Loudness (EBU R128)" }).strong());
    // Narrow windows get short names and the units in the tooltips.
    egui::Grid::new("loudness").num_columns(if compact { 2 } else { 3 }).spacing([6.0, 2.0]).show(ui, |ui| {
        let row = |ui: &mut egui::Ui, name: &str, short: &str, value: String, unit: &str, tip: &str| {
            let tip = format!("{name} ({unit}): {tip}");
            ui.label(if compact { short } else { name }).on_hover_text(&tip);
            ui.label(egui::RichText::new(value).monospace().size(12.5)).on_hover_text(&tip);
            if !compact {
                ui.label(unit);
            }
            ui.end_row();
        };
        row(ui, "Momentary", "M", lufs(r.momentary), "LUFS", "400 ms window");
        row(ui, "Short-term", "S", lufs(r.short_term), "LUFS", "3 s window");
        row(ui, "Integrated", "I", opt(r.integrated, 1), "LUFS", "Gated (−70 LUFS absolute, −10 LU relative) since reset");
        row(ui, "Range", "LRA", opt(r.range, 1), "LU", "Loudness range (EBU Tech 3342) since reset");
        row(ui, "Max mom.", "M max", lufs(r.momentary_max), "LUFS", "Highest momentary loudness since reset");
        let tp = if r.true_peak_db > -120.0 { format!("{:6.1}", r.true_peak_db) } else { "   ---".into() };
        row(ui, "True peak", "TP", tp, "dBTP", "Highest 4× oversampled peak since reset (BS.1770-4)");
    });
    ui.button("Reset").on_hover_text("Start a new integrated / range / maximum measurement").clicked()
}
