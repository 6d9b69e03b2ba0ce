//! The editor's controls, as plugin users expect them: knobs (drag, Shift or Ctrl for fine,
//! mouse wheel, double-click for the default, click the value to type one with its unit),
//! switches, menus, and a tooltip on each. Every change goes through `Edits`, so it is a host
//! gesture and can be undone. `Layout` records where each widget landed (for the layout tests).

use super::edits::{Edits, Sink};
use egui::{Color32, Rect, Response, Sense, Stroke, Vec2};
use nice_plug::prelude::*;

/// Pixels of vertical drag for the whole range; ten times as many with Shift or Ctrl.
const DRAG_RANGE_PX: f32 = 200.0;
pub const FINE: f32 = 10.0;
/// One wheel notch: 1 % of the range (0.1 % fine), or one step of a stepped parameter.
const WHEEL_STEP: f32 = 0.01;

pub const KNOB_SIZE: Vec2 = Vec2::new(68.0, 70.0);

/// Where every widget landed this frame, by name, with the clip rectangle it was drawn in.
#[derive(Default)]
pub struct Layout {
    pub on: bool,
    /// True while drawing inside a vertical scroll area (a widget may be cut at its top or bottom
    /// edge there, never at its sides).
    pub scrolling: bool,
    pub widgets: Vec<Placed>,
}

pub struct Placed {
    pub id: String,
    pub parent: Option<String>,
    pub rect: Rect,
    pub clip: Rect,
    pub scrolling: bool,
}

impl Layout {
    pub fn add(&mut self, ui: &egui::Ui, id: impl Into<String>, rect: Rect) {
        self.add_in(ui, id, None, rect);
    }

    pub fn add_in(&mut self, ui: &egui::Ui, id: impl Into<String>, parent: Option<&str>, rect: Rect) {
        if self.on {
            self.widgets.push(Placed {
                id: id.into(),
                parent: parent.map(str::to_string),
                rect,
                clip: ui.clip_rect(),
                scrolling: self.scrolling,
            });
        }
    }
}

/// What every control needs: the edit history, where changes go, the value being typed, and
/// the layout record.
pub struct Ctl<'a> {
    pub edits: &'a mut Edits,
    pub sink: &'a dyn Sink,
    pub layout: &'a mut Layout,
}

pub fn normalized(p: ParamPtr) -> f32 {
    // SAFETY: pointers come from the plugin's parameter map, alive as long as the editor.
    unsafe { p.unmodulated_normalized_value() }
}

fn text_of(p: ParamPtr, n: f32) -> String {
    // SAFETY: as above.
    unsafe { p.normalized_value_to_string(n, true) }
}

/// Reads a typed value: a number with an optional unit or "k" ("250 ms", "-3 dB", "2k",
/// "2.5 kHz", "0.3 s"), else as the parameter itself parses it (note names, ratios, choices).
pub fn parse_value(p: ParamPtr, text: &str) -> Option<f32> {
    number_with_unit(p, text)
        .or_else(|| {
            // SAFETY: as above.
            unsafe { p.string_to_normalized_value(text.trim()) }
        })
        .filter(|n| n.is_finite())
}

fn number_with_unit(p: ParamPtr, text: &str) -> Option<f32> {
    // SAFETY: as above.
    let unit = unsafe { p.unit() }.trim().to_ascii_lowercase();
    let t: String = text.trim().to_ascii_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    let (number, scale) = if let Some(v) = t.strip_suffix("khz") {
        (v, 1000.0)
    } else if let Some(v) = t.strip_suffix("hz") {
        (v, 1.0)
    } else if let Some(v) = t.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = t.strip_suffix('s').filter(|_| unit == "ms") {
        (v, 1000.0)
    } else if let Some(v) = t.strip_suffix('k') {
        (v, 1000.0)
    } else if !unit.is_empty() && t.ends_with(&unit) {
        (&t[..t.len() - unit.len()], 1.0)
    } else {
        (t.trim_end_matches(['%', 'x']), 1.0)
    };
    let plain: f32 = number.parse::<f32>().ok().filter(|v| v.is_finite())? * scale;
    // SAFETY: as above.
    Some(unsafe { p.preview_normalized(plain) })
}

impl Ctl<'_> {
    /// The parameter's id, for the layout record and the tests.
    pub fn id(&self, p: ParamPtr) -> &str {
        self.edits.id_of(p)
    }

    /// Moves `p` by `notches` wheel steps, as one gesture per frame.
    fn step(&mut self, ui: &egui::Ui, p: ParamPtr, notches: f32) {
        let now = normalized(p);
        // SAFETY: as above.
        let target = if unsafe { p.step_count() }.is_some() {
            let mut v = now;
            for _ in 0..notches.abs() as usize {
                v = unsafe {
                    if notches > 0.0 {
                        p.next_normalized_step(v, false)
                    } else {
                        p.previous_normalized_step(v, false)
                    }
                };
            }
            v
        } else {
            now + notches * WHEEL_STEP / if fine(ui) { FINE } else { 1.0 }
        };
        self.edits.edit(p, target.clamp(0.0, 1.0), self.sink);
    }

    /// A knob with its name above and its value below.
    pub fn knob(&mut self, ui: &mut egui::Ui, p: ParamPtr, tip: &str) -> Response {
        // SAFETY: as above.
        let label = super::stages::short_name(unsafe { p.name() });
        self.knob_named(ui, p, &label, tip)
    }

    /// A knob labelled `label` (the tooltip keeps the parameter's full name).
    pub fn knob_named(&mut self, ui: &mut egui::Ui, p: ParamPtr, label: &str, tip: &str) -> Response {
        let id = self.id(p).to_string();
        let (rect, _) = ui.allocate_exact_size(KNOB_SIZE, Sense::hover());
        self.layout.add(ui, format!("knob:{id}"), rect);
        let name_rect = Rect::from_min_size(rect.min, Vec2::new(rect.width(), 13.0));
        let value_rect = Rect::from_min_max(egui::pos2(rect.left(), rect.bottom() - 15.0), rect.max);
        let dial = Rect::from_center_size(egui::pos2(rect.center().x, (name_rect.bottom() + value_rect.top()) / 2.0), Vec2::splat(38.0));
        let ui_id = ui.scope_id().with(("knob", &id));
        let response = ui.interact(dial, ui_id, Sense::click_and_drag());
        // SAFETY: as above.
        let name = unsafe { p.name() }.to_string();
        let response = response.on_hover_text(format!(
            "{name}: {tip}\nDrag up or down (Shift: fine), turn the wheel, double-click for the default, click the value to type one."
        ));
        let v = normalized(p);
        if response.double_clicked() {
            self.edits.reset(p, self.sink);
        } else if response.drag_started() {
            self.edits.begin(p, self.sink);
        }
        if response.dragged() {
            let dy = -drag_moved(ui, &response).y / DRAG_RANGE_PX / if fine(ui) { FINE } else { 1.0 };
            if dy != 0.0 {
                // Remember the unrounded position, so stepped and fine drags still move.
                let mem = ui_id.with("pos");
                let pos = ui.data(|d| d.get_temp::<f32>(mem)).unwrap_or(v) + dy;
                let pos = pos.clamp(0.0, 1.0);
                ui.data_mut(|d| d.insert_temp(mem, pos));
                self.edits.set(p, pos, self.sink);
            }
        }
        if response.drag_stopped() {
            ui.data_mut(|d| d.remove::<f32>(ui_id.with("pos")));
            self.edits.end(self.sink);
        }
        let notches = wheel_notches(ui, &response);
        if notches != 0.0 {
            self.step(ui, p, notches);
        }

        let painter = ui.painter_at(rect);
        fitted_text(ui, name_rect, label, Color32::from_gray(200));
        let v = normalized(p);
        let c = dial.center();
        let r = dial.width() / 2.0 - 3.0;
        let arc = |from: f32, to: f32, colour: Color32, width: f32| {
            // From 7 o'clock (−225°) clockwise to 5 o'clock (45°).
            let n = 32;
            let pts: Vec<egui::Pos2> = (0..=n)
                .map(|i| {
                    let t = from + (to - from) * i as f32 / n as f32;
                    let a = (-225.0 + 270.0 * t).to_radians();
                    c + r * Vec2::new(a.cos(), a.sin())
                })
                .collect();
            painter.add(egui::Shape::line(pts, Stroke::new(width, colour)));
        };
        let hot = response.hovered() || response.dragged();
        painter.circle_filled(c, r - 4.0, Color32::from_gray(if hot { 60 } else { 48 }));
        arc(0.0, 1.0, Color32::from_gray(70), 3.0);
        arc(0.0, v, Color32::from_rgb(110, 190, 245), 3.0);
        let a = (-225.0 + 270.0 * v).to_radians();
        painter.line_segment([c, c + (r - 5.0) * Vec2::new(a.cos(), a.sin())], Stroke::new(2.0, Color32::WHITE));

        // The value: click to type.
        let typing_here = matches!(self.edits.typing, Some((q, _)) if q == p);
        if typing_here {
            let mut text = self.edits.typing.take().map(|(_, t)| t).unwrap_or_default();
            let edit = ui.put(
                value_rect,
                egui::TextEdit::singleline(&mut text).font(egui::FontId::monospace(10.5)).align(egui::Align2::CENTER_CENTER),
            );
            edit.request_focus();
            let (enter, escape) = ui.input(|i| (i.key_pressed(egui::Key::Enter), i.key_pressed(egui::Key::Escape)));
            if enter {
                if let Some(n) = parse_value(p, &text) {
                    self.edits.edit(p, n, self.sink);
                }
            } else if !escape && !edit.lost_focus() {
                self.edits.typing = Some((p, text));
            }
        } else {
            let value = ui
                .interact(value_rect, ui_id.with("value"), Sense::click())
                .on_hover_text("Click to type a value (units optional: \"250 ms\", \"-3 dB\", \"2k\")");
            let wheel = wheel_notches(ui, &value);
            if wheel != 0.0 {
                self.step(ui, p, wheel);
            }
            painter.text(
                value_rect.center(),
                egui::Align2::CENTER_CENTER,
                text_of(p, normalized(p)),
                egui::FontId::monospace(10.5),
                Color32::from_gray(225),
            );
            if value.clicked() {
                // SAFETY: as above.
                self.edits.typing = Some((p, unsafe { p.normalized_value_to_string(normalized(p), false) }));
            }
        }
        response
    }

    /// An on/off switch drawn as a switch, with its label to the right (or none).
    pub fn switch(&mut self, ui: &mut egui::Ui, p: ParamPtr, label: Option<&str>, tip: &str) -> Response {
        let id = self.id(p).to_string();
        let text_w = label.map_or(0.0, |l| text_width(ui, l, 12.0) + 6.0);
        let (rect, _) = ui.allocate_exact_size(Vec2::new(32.0 + text_w, 18.0), Sense::hover());
        let pill = Rect::from_min_size(rect.min, Vec2::new(32.0, 18.0));
        let response = self.toggle_at(ui, p, [rect, pill], &format!("switch:{id}"), None, tip);
        if let Some(l) = label {
            ui.painter().text(
                egui::pos2(rect.left() + 38.0, rect.center().y),
                egui::Align2::LEFT_CENTER,
                l,
                egui::FontId::proportional(12.0),
                Color32::from_gray(210),
            );
        }
        response
    }

    /// A switch's behaviour: `hit` (the first rectangle) takes the click, recorded as `key`
    /// inside `parent`, and flips `p` as one gesture; the switch is drawn in the second.
    pub fn toggle_at(
        &mut self,
        ui: &egui::Ui,
        p: ParamPtr,
        [hit, pill]: [Rect; 2],
        key: &str,
        parent: Option<&str>,
        tip: &str,
    ) -> Response {
        let response = ui.interact(hit, ui.scope_id().with(("toggle", key)), Sense::click()).on_hover_text(tip);
        self.layout.add_in(ui, key, parent, hit);
        if response.clicked() {
            self.edits.edit(p, if normalized(p) > 0.5 { 0.0 } else { 1.0 }, self.sink);
        }
        switch_shape(ui, pill, normalized(p) > 0.5, response.hovered());
        response
    }

    /// A choice: segmented buttons for a few short options, a menu otherwise.
    pub fn choice(&mut self, ui: &mut egui::Ui, p: ParamPtr, tip: &str) {
        let id = self.id(p).to_string();
        // SAFETY: as above.
        let name = super::stages::short_name(unsafe { p.name() });
        let (options, short) = choices(p);
        let now = normalized(p);
        let current =
            options.iter().min_by(|a, b| (a.0 - now).abs().total_cmp(&(b.0 - now).abs())).map(|o| o.1.clone()).unwrap_or_default();
        let inner = ui.vertical(|ui| {
            ui.label(egui::RichText::new(&name).size(10.5).color(Color32::from_gray(200)));
            if short {
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 2.0;
                    for (n, text) in &options {
                        let r = ui.selectable_label(*text == current, text).on_hover_text(tip);
                        if r.clicked() && *text != current {
                            self.edits.edit(p, *n, self.sink);
                        }
                    }
                });
            } else {
                egui::ComboBox::from_id_salt(("choice", &id)).width(COMBO_WIDTH).selected_text(&current).show_ui(ui, |ui| {
                    for (n, text) in &options {
                        if ui.selectable_label(*text == current, text).clicked() && *text != current {
                            self.edits.edit(p, *n, self.sink);
                        }
                    }
                });
            }
        });
        let rect = inner.response.rect;
        self.layout.add(ui, format!("choice:{id}"), rect);
        inner.response.on_hover_text(tip);
    }
}

/// Wheel notches over `r` this frame (up positive), eaten so nothing scrolls.
pub fn wheel_notches(ui: &egui::Ui, r: &Response) -> f32 {
    if !r.hovered() {
        return 0.0;
    }
    ui.input_mut(|i| {
        let n: f32 = i
            .events
            .iter()
            .filter_map(|e| match e {
                egui::Event::MouseWheel { delta, .. } if delta.y != 0.0 => Some(delta.y.signum()),
                _ => None,
            })
            .sum();
        if n != 0.0 {
            i.smooth_scroll_delta = Vec2::ZERO;
        }
        n
    })
}

/// Shift or Ctrl (Cmd) held: drags and the wheel move ten times finer.
pub fn fine(ui: &egui::Ui) -> bool {
    ui.input(|i| i.modifiers.shift || i.modifiers.command || i.modifiers.ctrl)
}

/// How far a drag moved this frame. egui reports a drag once the pointer has moved a few points;
/// its first frame counts the whole way from where the button went down, so no movement is lost.
pub fn drag_moved(ui: &egui::Ui, r: &Response) -> Vec2 {
    if r.drag_started() {
        ui.input(|i| i.pointer.press_origin().zip(i.pointer.interact_pos()).map_or(Vec2::ZERO, |(a, b)| b - a))
    } else {
        r.drag_delta()
    }
}

/// The width of `text` on one line in the proportional font of `size`.
fn text_width(ui: &egui::Ui, text: &str, size: f32) -> f32 {
    ui.fonts_mut(|f| f.layout_no_wrap(text.to_string(), egui::FontId::proportional(size), Color32::WHITE).size().x)
}

/// `text` centred in `rect`, in a smaller font or cut short with "…" when it does not fit.
pub fn fitted_text(ui: &egui::Ui, rect: Rect, text: &str, colour: Color32) {
    let width = |t: &str, size: f32| text_width(ui, t, size);
    let mut size = 10.5;
    if width(text, size) > rect.width() {
        size = 9.5;
    }
    let mut chars: Vec<char> = text.chars().collect();
    let mut shown = text.to_string();
    while width(&shown, size) > rect.width() && chars.len() > 1 {
        chars.pop();
        shown = chars.iter().collect::<String>() + "…";
    }
    ui.painter_at(rect).text(rect.center(), egui::Align2::CENTER_CENTER, shown, egui::FontId::proportional(size), colour);
}

/// The width a control for `p` takes in a row of controls.
pub fn control_width(ui: &egui::Ui, p: ParamPtr) -> f32 {
    let text_w = |t: &str, size: f32| text_width(ui, t, size);
    match p {
        // SAFETY: as above.
        ParamPtr::BoolParam(_) => 38.0 + text_w(&super::stages::short_name(unsafe { p.name() }), 12.0),
        ParamPtr::EnumParam(_) => {
            let (options, short) = choices(p);
            if short {
                options.iter().map(|o| text_w(&o.1, 14.0) + 2.0 * ui.spacing().button_padding.x + 2.0).sum::<f32>()
            } else {
                COMBO_WIDTH + 2.0 * ui.spacing().button_padding.x + ui.spacing().icon_width
            }
        }
        _ => KNOB_SIZE.x,
    }
}

const COMBO_WIDTH: f32 = 120.0;

/// A choice's options (normalized value, text), and whether they are few and short enough for
/// segmented buttons.
fn choices(p: ParamPtr) -> (Vec<(f32, String)>, bool) {
    // SAFETY: as above.
    let steps = unsafe { p.step_count() }.unwrap_or(1).max(1);
    let options: Vec<(f32, String)> = (0..=steps)
        .map(|k| {
            let n = k as f32 / steps as f32;
            (n, text_of(p, n))
        })
        .collect();
    let short = options.len() <= 4 && options.iter().all(|o| o.1.chars().count() <= 9);
    (options, short)
}

/// A pill-shaped switch: lit and knob right when on.
pub fn switch_shape(ui: &egui::Ui, rect: Rect, on: bool, hot: bool) {
    let painter = ui.painter();
    let fill = if on { Color32::from_rgb(70, 170, 110) } else { Color32::from_gray(if hot { 75 } else { 60 }) };
    painter.rect_filled(rect, rect.height() / 2.0, fill);
    let x = if on { rect.right() - rect.height() / 2.0 } else { rect.left() + rect.height() / 2.0 };
    painter.circle_filled(egui::pos2(x, rect.center().y), rect.height() / 2.0 - 3.0, Color32::from_gray(235));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::LivechainParams;

    #[test]
    fn typed_values_take_units_and_k() {
        let p = LivechainParams::default();
        let at = |ptr: ParamPtr, n: Option<f32>| n.map(|n| unsafe { ptr.preview_plain(n) });
        let freq = p.eq.b1_freq.as_ptr();
        for (text, want) in [("2k", 2000.0), ("2.5 kHz", 2500.0), ("250 Hz", 250.0), ("250hz", 250.0), ("440", 440.0)] {
            let got = at(freq, parse_value(freq, text)).unwrap_or(f32::NAN);
            assert!((got - want).abs() < want * 1e-3, "{text:?}: {got}");
        }
        let time = p.delay.time.as_ptr();
        for (text, want) in [("250 ms", 250.0), ("250ms", 250.0), ("0.3 s", 300.0), ("0.3s", 300.0)] {
            let got = at(time, parse_value(time, text)).unwrap_or(f32::NAN);
            assert!((got - want).abs() < 0.05, "{text:?}: {got}");
        }
        let gain = p.input.gain.as_ptr();
        for (text, want) in [("-3 dB", -3.0), ("-3dB", -3.0), ("-3", -3.0), ("+6 db", 6.0)] {
            let got = at(gain, parse_value(gain, text)).unwrap_or(f32::NAN);
            assert!((got - want).abs() < 1e-3, "{text:?}: {got}");
        }
        assert_eq!(parse_value(gain, "loud"), None);
        assert_eq!(parse_value(gain, "nan dB"), None);
        // Out of range clamps to the range's end, as a typed value in any plugin does.
        assert_eq!(at(gain, parse_value(gain, "99 dB")), Some(36.0));
    }
}
