//! The detail area's pictures that take the mouse: the filters' and EQ's response over the live
//! spectrum with draggable nodes, and the dynamics stages' transfer curves with a draggable
//! threshold. They change parameters only through `Ctl`, so every drag is a host gesture.

use super::controls::{self, Ctl};
use super::curves::FilterCurve;
use super::spectrum;
use crate::analysis::spectrum::Analyzer;
use crate::dsp::eq::design::{analog_db, Band};
use crate::dsp::eq::KINDS;
use crate::params::LivechainParams;
use egui::{Color32, Pos2, Rect, Sense, Shape, Stroke, Vec2};
use nice_plug::prelude::*;

/// The response curve's vertical range, ±dB.
pub const RANGE_DB: f32 = 24.0;

/// Frequency ↔ x and gain ↔ y of the response picture.
pub struct Axes {
    pub rect: Rect,
    pub hi_hz: f32,
}

impl Axes {
    pub fn x_of(&self, f: f32) -> f32 {
        self.rect.left() + self.rect.width() * (f / spectrum::LO_HZ).ln() / (self.hi_hz / spectrum::LO_HZ).ln()
    }
    pub fn f_of(&self, x: f32) -> f32 {
        spectrum::LO_HZ * (self.hi_hz / spectrum::LO_HZ).powf(((x - self.rect.left()) / self.rect.width()).clamp(0.0, 1.0))
    }
    pub fn y_of(&self, db: f32) -> f32 {
        self.rect.center().y - self.rect.height() * 0.5 * (db / RANGE_DB).clamp(-1.0, 1.0)
    }
    pub fn db_of(&self, y: f32) -> f32 {
        ((self.rect.center().y - y) / (self.rect.height() * 0.5) * RANGE_DB).clamp(-RANGE_DB, RANGE_DB)
    }
}

/// One EQ band's parameters: on, frequency, gain, Q.
pub fn eq_bands(p: &LivechainParams) -> [[ParamPtr; 4]; 5] {
    let e = &p.eq;
    [
        [e.ls_on.as_ptr(), e.ls_freq.as_ptr(), e.ls_gain.as_ptr(), e.ls_q.as_ptr()],
        [e.b1_on.as_ptr(), e.b1_freq.as_ptr(), e.b1_gain.as_ptr(), e.b1_q.as_ptr()],
        [e.b2_on.as_ptr(), e.b2_freq.as_ptr(), e.b2_gain.as_ptr(), e.b2_q.as_ptr()],
        [e.b3_on.as_ptr(), e.b3_freq.as_ptr(), e.b3_gain.as_ptr(), e.b3_q.as_ptr()],
        [e.hs_on.as_ptr(), e.hs_freq.as_ptr(), e.hs_gain.as_ptr(), e.hs_q.as_ptr()],
    ]
}

pub const BAND_NAMES: [&str; 5] = ["Low shelf", "Bell 1", "Bell 2", "Bell 3", "High shelf"];

fn norm_of(p: ParamPtr, plain: f32) -> f32 {
    // SAFETY: pointers from the plugin's parameter map, alive as long as the editor.
    unsafe { p.preview_normalized(plain) }
}

/// The filters and EQ as one curve over the live spectrum, with a node per EQ band (drag:
/// frequency and gain; wheel: Q; double-click: back to its defaults) and per filter (drag:
/// cutoff; wheel: slope).
pub fn response(ui: &mut egui::Ui, ctl: &mut Ctl, p: &LivechainParams, analyzer: &Analyzer, sr: f32, size: Vec2) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    ctl.layout.add(ui, "graph:response", rect);
    let sr = if sr > 0.0 { sr } else { 48_000.0 };
    spectrum::paint(ui, rect, analyzer, sr, false);
    let ax = Axes { rect, hi_hz: spectrum::HI_HZ.min(sr * 0.5) };
    let painter = ui.painter_at(rect);
    let zero = Stroke::new(1.0, Color32::from_gray(80));
    painter.hline(rect.x_range(), ax.y_of(0.0), zero);
    for db in [-12.0, 12.0] {
        painter.text(
            egui::pos2(rect.right() - 3.0, ax.y_of(db)),
            egui::Align2::RIGHT_CENTER,
            format!("{db:+}"),
            egui::FontId::monospace(9.0),
            Color32::GRAY,
        );
    }

    let f = &p.filters;
    let filters = FilterCurve {
        hp: f.hp_on.value().then(|| (f.hp_freq.value(), f.hp_slope.value().into())),
        lp: f.lp_on.value().then(|| (f.lp_freq.value(), f.lp_slope.value().into())),
        sample_rate: sr,
    };
    let s = p.eq.settings();
    let eq_on = p.eq.on.value();
    let bands: Vec<Band> = s
        .bands
        .iter()
        .zip(KINDS)
        .filter(|(b, _)| eq_on && b.on && b.gain_db != 0.0)
        .map(|(b, kind)| Band { kind, freq: b.freq as f64, gain_db: b.gain_db as f64, q: b.q as f64 })
        .collect();
    let db_at = |freq: f32| filters.gain_db(freq) + bands.iter().map(|b| analog_db(b, freq as f64)).sum::<f64>() as f32;
    let n = rect.width().max(2.0) as usize;
    let points: Vec<Pos2> = (0..=n)
        .map(|i| {
            let x = rect.left() + i as f32 * rect.width() / n as f32;
            egui::pos2(x, ax.y_of(db_at(ax.f_of(x))))
        })
        .collect();
    painter.add(Shape::line(points, Stroke::new(2.0, Color32::from_rgb(120, 210, 140))));

    // Filter nodes: on the curve at the cutoff; drag sideways.
    for (key, on, freq, slope, name) in
        [("hp", &f.hp_on, &f.hp_freq, &f.hp_slope, "High-pass"), ("lp", &f.lp_on, &f.lp_freq, &f.lp_slope, "Low-pass")]
    {
        let fc = freq.value();
        let centre = egui::pos2(ax.x_of(fc), ax.y_of(db_at(fc)));
        let r = node(
            ui,
            ctl,
            key,
            centre,
            on.value(),
            Color32::from_rgb(230, 200, 90),
            &format!("{name} {fc:.0} Hz: drag sideways for the cutoff (switches it on), wheel for the slope, double-click for the default"),
        );
        if r.drag_started() {
            ctl.edits.begin_all(&[on.as_ptr(), freq.as_ptr()], ctl.sink);
            ctl.edits.set(on.as_ptr(), 1.0, ctl.sink);
        }
        if r.dragged() {
            if let Some(pos) = r.interact_pointer_pos() {
                ctl.edits.set(freq.as_ptr(), norm_of(freq.as_ptr(), ax.f_of(pos.x)), ctl.sink);
            }
        }
        if r.drag_stopped() {
            ctl.edits.end(ctl.sink);
        }
        if r.double_clicked() {
            ctl.edits.reset(freq.as_ptr(), ctl.sink);
        }
        let wheel = controls::wheel_notches(ui, &r);
        if wheel != 0.0 {
            let v = slope.unmodulated_normalized_value();
            let target = if wheel > 0.0 { slope.next_normalized_step(v, false) } else { slope.previous_normalized_step(v, false) };
            ctl.edits.edit(slope.as_ptr(), target, ctl.sink);
        }
    }

    // EQ nodes: at (frequency, gain); drag both; wheel for Q.
    for (k, [on, freq, gain, q]) in eq_bands(p).into_iter().enumerate() {
        // SAFETY: as in `norm_of`.
        let (fv, gv, qv, lit) = unsafe {
            (
                freq.unmodulated_plain_value(),
                gain.unmodulated_plain_value(),
                q.unmodulated_plain_value(),
                on.unmodulated_normalized_value() > 0.5,
            )
        };
        let centre = egui::pos2(ax.x_of(fv), ax.y_of(gv));
        let r = node(
            ui,
            ctl,
            &format!("eq{}", k + 1),
            centre,
            lit && eq_on,
            Color32::from_rgb(120, 190, 245),
            &format!(
                "{}: {fv:.0} Hz, {gv:+.1} dB, Q {qv:.2}. Drag: frequency and gain (switches the band on); wheel: Q; double-click: flat",
                BAND_NAMES[k]
            ),
        );
        painter.text(
            centre + Vec2::new(0.0, -12.0),
            egui::Align2::CENTER_BOTTOM,
            format!("{}", k + 1),
            egui::FontId::proportional(10.0),
            Color32::from_gray(220),
        );
        if r.drag_started() {
            ctl.edits.begin_all(&[on, freq, gain], ctl.sink);
            ctl.edits.set(on, 1.0, ctl.sink);
        }
        if r.dragged() {
            if let Some(pos) = r.interact_pointer_pos() {
                ctl.edits.set(freq, norm_of(freq, ax.f_of(pos.x)), ctl.sink);
                ctl.edits.set(gain, norm_of(gain, ax.db_of(pos.y)), ctl.sink);
            }
        }
        if r.drag_stopped() {
            ctl.edits.end(ctl.sink);
        }
        if r.double_clicked() {
            ctl.edits.reset(gain, ctl.sink);
        }
        let wheel = controls::wheel_notches(ui, &r);
        if wheel != 0.0 {
            // One notch: Q by a sixth of an octave's worth, 2^(±1/4).
            let target = qv * 2f32.powf(wheel * 0.25);
            ctl.edits.edit(q, norm_of(q, target), ctl.sink);
        }
    }
}

/// A round handle at `centre` that takes clicks, drags and the wheel.
fn node(ui: &mut egui::Ui, ctl: &mut Ctl, key: &str, centre: Pos2, on: bool, colour: Color32, tip: &str) -> egui::Response {
    let rect = Rect::from_center_size(centre, Vec2::splat(16.0));
    let r = ui.interact(rect, ui.scope_id().with(("node", key)), Sense::click_and_drag()).on_hover_text(tip);
    ctl.layout.add_in(ui, format!("node:{key}"), Some("graph:response"), rect);
    let fill = if on { colour } else { Color32::from_gray(90) };
    let painter = ui.painter();
    painter.circle_filled(centre, if r.hovered() || r.dragged() { 7.0 } else { 5.5 }, fill);
    painter.circle_stroke(centre, 6.5, Stroke::new(1.0, Color32::from_gray(20)));
    r
}

/// A dynamics stage's static curve: `out_of(x)` over x in `[lo, hi]` dB (y in `[ylo, yhi]`),
/// with the threshold as a vertical handle that drags sideways, and a live reading.
pub struct Transfer<'a> {
    pub key: &'a str,
    pub x: (f32, f32),
    pub y: (f32, f32),
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub threshold: ParamPtr,
    pub on: bool,
    /// The live operating point (input dB, output dB), if known.
    pub point: Option<(f32, f32)>,
}

pub fn transfer(ui: &mut egui::Ui, ctl: &mut Ctl, t: Transfer, size: Vec2, out_of: impl Fn(f32) -> f32) {
    let (rect, r) = ui.allocate_exact_size(size, Sense::click_and_drag());
    ctl.layout.add(ui, format!("graph:{}", t.key), rect);
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, Color32::from_gray(18));
    let x_of = |db: f32| rect.left() + rect.width() * ((db - t.x.0) / (t.x.1 - t.x.0)).clamp(0.0, 1.0);
    let y_of = |db: f32| rect.bottom() - rect.height() * ((db - t.y.0) / (t.y.1 - t.y.0)).clamp(0.0, 1.0);
    let grid = Stroke::new(1.0, Color32::from_gray(40));
    let mut db = (t.x.0 / 12.0).ceil() * 12.0;
    while db < t.x.1 {
        painter.vline(x_of(db), rect.y_range(), grid);
        db += 12.0;
    }
    let mut db = (t.y.0 / 12.0).ceil() * 12.0;
    while db < t.y.1 {
        painter.hline(rect.x_range(), y_of(db), grid);
        db += 12.0;
    }
    let small = |pos: Pos2, text: &str, align| painter.text(pos, align, text, egui::FontId::proportional(10.0), Color32::GRAY);
    small(rect.left_bottom() + Vec2::new(3.0, -2.0), t.x_label, egui::Align2::LEFT_BOTTOM);
    small(rect.left_top() + Vec2::new(3.0, 2.0), t.y_label, egui::Align2::LEFT_TOP);
    let n = 160;
    let pts: Vec<Pos2> = (0..=n)
        .map(|i| {
            let x = t.x.0 + (t.x.1 - t.x.0) * i as f32 / n as f32;
            egui::pos2(x_of(x), y_of(out_of(x)))
        })
        .collect();
    let colour = if t.on { Color32::from_rgb(230, 160, 60) } else { Color32::from_gray(110) };
    painter.add(Shape::line(pts, Stroke::new(2.0, colour)));
    // SAFETY: as in `norm_of`.
    let th = unsafe { t.threshold.unmodulated_plain_value() };
    let tx = x_of(th);
    painter.vline(tx, rect.y_range(), Stroke::new(1.0, Color32::from_rgb(240, 220, 120)));
    let handle = Rect::from_center_size(egui::pos2(tx, rect.bottom() - 9.0), Vec2::new(14.0, 14.0));
    painter.rect_filled(handle, 3.0, Color32::from_rgb(240, 220, 120));
    small(egui::pos2(tx + 9.0, rect.bottom() - 9.0), &format!("{th:.1} dB"), egui::Align2::LEFT_CENTER);
    ctl.layout.add_in(ui, format!("handle:{}", t.key), Some(&format!("graph:{}", t.key)), handle);
    if let Some((i, o)) = t.point.filter(|_| t.on) {
        painter.circle_filled(egui::pos2(x_of(i), y_of(o)), 4.0, Color32::WHITE);
    }
    let r = r.on_hover_text("Drag sideways to set the threshold (Shift: fine); double-click for its default");
    if r.drag_started() {
        ctl.edits.begin(t.threshold, ctl.sink);
    }
    if r.dragged() {
        let dx = controls::drag_moved(ui, &r).x / rect.width() * (t.x.1 - t.x.0) / if controls::fine(ui) { controls::FINE } else { 1.0 };
        let mem = r.id.with("thresh");
        let pos = ui.data(|d| d.get_temp::<f32>(mem)).unwrap_or(th) + dx;
        ui.data_mut(|d| d.insert_temp(mem, pos));
        ctl.edits.set(t.threshold, norm_of(t.threshold, pos), ctl.sink);
    }
    if r.drag_stopped() {
        ui.data_mut(|d| d.remove::<f32>(r.id.with("thresh")));
        ctl.edits.end(ctl.sink);
    }
    if r.double_clicked() {
        ctl.edits.reset(t.threshold, ctl.sink);
    }
}
