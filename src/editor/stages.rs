//! The signal-flow strip (one tile per stage, in chain order, each with its switch and a live
//! cue of what it is doing) and the detail area of the selected stage: its picture and its
//! controls.

use super::controls::{normalized, Ctl};
use super::graph::{self, Transfer};
use super::{curves, Live};
use crate::bridge::Bridge;
use crate::params::LivechainParams;
use egui::{Color32, Rect, Sense, Stroke, Vec2};
use nice_plug::prelude::*;
use std::sync::atomic::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Input,
    Filters,
    Feedback,
    Gate,
    Eq,
    Agc,
    Comp,
    DeEsser,
    Vocoder,
    Delay,
    Reverb,
    Output,
}

/// The chain's order (`chain.rs`).
pub const ORDER: [Stage; 12] = [
    Stage::Input,
    Stage::Filters,
    Stage::Feedback,
    Stage::Gate,
    Stage::Eq,
    Stage::Agc,
    Stage::Comp,
    Stage::DeEsser,
    Stage::Vocoder,
    Stage::Delay,
    Stage::Reverb,
    Stage::Output,
];

pub const TILE: Vec2 = Vec2::new(88.0, 58.0);
/// A narrow window's tiles: name and switch only.
pub const TILE_COMPACT: Vec2 = Vec2::new(76.0, 24.0);

impl Stage {
    pub fn key(self) -> &'static str {
        match self {
            Stage::Input => "input",
            Stage::Filters => "filters",
            Stage::Feedback => "feedback",
            Stage::Gate => "gate",
            Stage::Eq => "eq",
            Stage::Agc => "agc",
            Stage::Comp => "comp",
            Stage::DeEsser => "deess",
            Stage::Vocoder => "vocoder",
            Stage::Delay => "delay",
            Stage::Reverb => "reverb",
            Stage::Output => "output",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Stage::Input => "Input",
            Stage::Filters => "Filters",
            Stage::Feedback => "Feedback",
            Stage::Gate => "Gate",
            Stage::Eq => "EQ",
            Stage::Agc => "AGC",
            Stage::Comp => "Compressor",
            Stage::DeEsser => "De-esser",
            Stage::Vocoder => "Vocoder",
            Stage::Delay => "Delay",
            Stage::Reverb => "Reverb",
            Stage::Output => "Output",
        }
    }

    fn about(self) -> &'static str {
        match self {
            Stage::Input => "Gain into the chain.",
            Stage::Filters => "High-pass and low-pass (12 or 24 dB/oct), drawn with the EQ over the output spectrum.",
            Stage::Feedback => "Finds a building howl and notches it; learns a fixed set while ringing out a room.",
            Stage::Gate => "Closes below the threshold (with hysteresis), by up to the range.",
            Stage::Eq => "Five bands: low shelf, three bells, high shelf. Drag a node; the wheel sets its Q.",
            Stage::Agc => "Rides the level towards a target loudness.",
            Stage::Comp => "Feed-forward compressor with knee, makeup and lookahead (the chain's latency).",
            Stage::DeEsser => "Turns sibilance down when its band rises above the threshold relative to the whole voice.",
            Stage::Vocoder => "A voice shapes a synth, a held chord, MIDI notes or the sidechain.",
            Stage::Delay => "Echoes, free or synced to the host's tempo, with tone and ping-pong.",
            Stage::Reverb => "A room or hall behind the voice.",
            Stage::Output => "Output gain, dry/wet, a safety ceiling and the host's bypass.",
        }
    }

    /// The stage's on/off switch (Input and Output have none).
    pub fn switch(self, p: &LivechainParams) -> Option<ParamPtr> {
        Some(match self {
            Stage::Input | Stage::Filters | Stage::Output => return None,
            Stage::Feedback => p.feedback.on.as_ptr(),
            Stage::Gate => p.gate.on.as_ptr(),
            Stage::Eq => p.eq.on.as_ptr(),
            Stage::Agc => p.agc.on.as_ptr(),
            Stage::Comp => p.comp.on.as_ptr(),
            Stage::DeEsser => p.deess.on.as_ptr(),
            Stage::Vocoder => p.vocoder.on.as_ptr(),
            Stage::Delay => p.delay.on.as_ptr(),
            Stage::Reverb => p.reverb.on.as_ptr(),
        })
    }
}

/// The strip: tiles in chain order that wrap onto more rows when the window is narrow.
pub fn strip(ui: &mut egui::Ui, ctl: &mut Ctl, p: &LivechainParams, live: &Live, bridge: &Bridge, selected: &mut Stage, compact: bool) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing = if compact { Vec2::new(10.0, 4.0) } else { Vec2::new(12.0, 8.0) };
        for (k, stage) in ORDER.into_iter().enumerate() {
            let (rect, r) = ui.allocate_exact_size(if compact { TILE_COMPACT } else { TILE }, Sense::click());
            let key = format!("tile:{}", stage.key());
            ctl.layout.add(ui, &key, rect);
            let r = r.on_hover_text(format!("{}: {} Click to show its controls.", stage.name(), stage.about()));
            if r.clicked() {
                *selected = stage;
            }
            let on = stage.switch(p).is_none_or(|s| normalized(s) > 0.5)
                && (stage != Stage::Filters || p.filters.hp_on.value() || p.filters.lp_on.value());
            let painter = ui.painter();
            let fill =
                if *selected == stage { Color32::from_rgb(45, 60, 78) } else { Color32::from_gray(if r.hovered() { 46 } else { 36 }) };
            painter.rect_filled(rect, 5.0, fill);
            let edge = if *selected == stage { Color32::from_rgb(110, 190, 245) } else { Color32::from_gray(60) };
            painter.rect_stroke(rect, 5.0, Stroke::new(1.0, edge), egui::StrokeKind::Inside);
            if k > 0 {
                // The signal's direction, in the gap before the tile.
                let y = rect.center().y;
                let x = rect.left() - 6.0;
                painter.add(egui::Shape::convex_polygon(
                    vec![egui::pos2(x - 4.0, y - 4.0), egui::pos2(x + 2.0, y), egui::pos2(x - 4.0, y + 4.0)],
                    Color32::from_gray(110),
                    Stroke::NONE,
                ));
            }
            let text = if on { Color32::from_gray(230) } else { Color32::from_gray(140) };
            if compact {
                let name = Rect::from_min_max(rect.min + Vec2::new(3.0, 0.0), egui::pos2(rect.right() - 28.0, rect.bottom()));
                let short = if stage == Stage::Comp { "Comp" } else { stage.name() };
                ui.painter_at(name).text(name.left_center(), egui::Align2::LEFT_CENTER, short, egui::FontId::proportional(11.0), text);
            } else {
                painter.text(
                    rect.left_top() + Vec2::new(7.0, 6.0),
                    egui::Align2::LEFT_TOP,
                    stage.name(),
                    egui::FontId::proportional(12.5),
                    text,
                );
            }
            if let Some(s) = stage.switch(p) {
                let at = if compact {
                    Rect::from_min_size(egui::pos2(rect.right() - 26.0, rect.center().y - 6.5), Vec2::new(22.0, 13.0))
                } else {
                    Rect::from_min_size(egui::pos2(rect.right() - 32.0, rect.bottom() - 22.0), Vec2::new(26.0, 15.0))
                };
                ctl.toggle_at(ui, s, [at, at], &format!("switch:{}", stage.key()), Some(&key), &format!("{} on/off", stage.name()));
            }
            if !compact {
                let cue = Rect::from_min_max(
                    egui::pos2(rect.left() + 7.0, rect.bottom() - 24.0),
                    egui::pos2(rect.right() - 38.0, rect.bottom() - 6.0),
                );
                activity(ui, cue, stage, on, p, live, bridge);
            }
        }
    });
}

/// The tile's live cue: gain reduction, the gate's state, notches, band activity, levels.
fn activity(ui: &egui::Ui, rect: Rect, stage: Stage, on: bool, p: &LivechainParams, live: &Live, bridge: &Bridge) {
    let painter = ui.painter_at(rect);
    let text = |s: String, colour: Color32| {
        painter.text(rect.left_center(), egui::Align2::LEFT_CENTER, s, egui::FontId::monospace(10.0), colour);
    };
    let dim = Color32::from_gray(150);
    let bar = |t: f32, colour: Color32| {
        painter.rect_filled(rect.shrink2(Vec2::new(0.0, 5.0)), 2.0, Color32::from_gray(24));
        let inner = rect.shrink2(Vec2::new(0.0, 5.0));
        painter.rect_filled(
            Rect::from_min_max(inner.min, egui::pos2(inner.left() + inner.width() * t.clamp(0.0, 1.0), inner.bottom())),
            2.0,
            colour,
        );
    };
    match stage {
        Stage::Input => bar((live.in_peak_db + 60.0) / 60.0, Color32::from_rgb(70, 200, 110)),
        Stage::Output => bar((live.out_peak_db + 60.0) / 60.0, Color32::from_rgb(70, 200, 110)),
        Stage::Comp if on => bar(-live.gr_db / 24.0, Color32::from_rgb(230, 140, 40)),
        Stage::DeEsser if on => bar(-live.deess_gr_db / 24.0, Color32::from_rgb(230, 140, 40)),
        Stage::Gate if on => {
            let open = bridge.gate_open.load(Ordering::Relaxed);
            painter.circle_filled(
                rect.left_center() + Vec2::new(5.0, 0.0),
                5.0,
                if open { Color32::from_rgb(60, 220, 90) } else { Color32::from_rgb(120, 40, 40) },
            );
            painter.text(
                rect.left_center() + Vec2::new(14.0, 0.0),
                egui::Align2::LEFT_CENTER,
                if open { "open" } else { "shut" },
                egui::FontId::monospace(10.0),
                dim,
            );
        }
        Stage::Feedback if on => {
            let n = bridge.fb_notches().len();
            text(format!("notch {n}"), if n > 0 { Color32::from_rgb(240, 180, 90) } else { dim });
        }
        Stage::Vocoder if on => curves::band_bars(&painter, rect, bridge, 0.0),
        Stage::Eq if on => {
            let n = p.eq.settings().bands.iter().filter(|b| b.on && b.gain_db != 0.0).count();
            text(format!("{n} band{}", if n == 1 { "" } else { "s" }), dim);
        }
        Stage::Filters if on => {
            let f = &p.filters;
            let hp = if f.hp_on.value() { format!("{:.0}", f.hp_freq.value()) } else { "-".into() };
            let lp = if f.lp_on.value() { format!("{:.1}k", f.lp_freq.value() / 1000.0) } else { "-".into() };
            text(format!("{hp}|{lp}"), dim);
        }
        Stage::Delay if on => text(format!("{:.0} ms", p.delay.time.value()), dim),
        Stage::Reverb if on => text(format!("{:.1} s", p.reverb.decay.value()), dim),
        Stage::Agc if on => text(format!("{:.0}LUFS", p.agc.target.value()), dim),
        _ => text("off".into(), Color32::from_gray(90)),
    }
}

/// A parameter's control by its kind: a switch, a menu or segmented buttons, or a knob.
fn auto(ui: &mut egui::Ui, ctl: &mut Ctl, p: ParamPtr, tip: &str) {
    match p {
        ParamPtr::BoolParam(_) => {
            // SAFETY: pointers from the plugin's parameter map, alive as long as the editor.
            let name = short_name(unsafe { p.name() });
            ui.vertical(|ui| {
                ui.add_space(22.0);
                ctl.switch(ui, p, Some(&name), tip);
            });
        }
        ParamPtr::EnumParam(_) => ctl.choice(ui, p, tip),
        _ => {
            ctl.knob(ui, p, tip);
        }
    }
}

/// The name without its stage's prefix ("Gate Threshold" → "Threshold"): the panel says which stage.
pub fn short_name(name: &str) -> String {
    for prefix in ["Gate ", "De-esser ", "Feedback ", "Vocoder ", "Delay ", "Reverb ", "AGC ", "Compressor ", "Comp "] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    name.to_string()
}

/// Controls side by side, wrapping onto more rows; each takes a known width, so a row never
/// runs past the edge.
fn row(ui: &mut egui::Ui, ctl: &mut Ctl, items: &[(ParamPtr, &str)]) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing = Vec2::new(10.0, 8.0);
        for &(p, tip) in items {
            let size = Vec2::new(super::controls::control_width(ui, p), super::controls::KNOB_SIZE.y);
            ui.allocate_ui(size, |ui| auto(ui, ctl, p, tip));
        }
    });
}

/// The selected stage's picture and controls.
#[allow(clippy::too_many_arguments)]
pub fn detail(
    ui: &mut egui::Ui,
    ctl: &mut Ctl,
    p: &LivechainParams,
    live: &Live,
    bridge: &Bridge,
    analyzer: &crate::analysis::spectrum::Analyzer,
    stage: Stage,
    clear_pressed: &mut Option<std::time::Instant>,
) {
    let sr = bridge.sample_rate.load(Ordering::Relaxed);
    ui.horizontal(|ui| {
        let r = ui.heading(stage.name());
        ctl.layout.add(ui, "detail:title", r.rect);
        if let Some(s) = stage.switch(p) {
            ctl.switch(ui, s, Some("On"), &format!("{} on/off (a 10 ms fade, no click)", stage.name()));
        }
    });
    let r = ui.label(egui::RichText::new(stage.about()).color(Color32::GRAY).size(11.5));
    ctl.layout.add(ui, "detail:about", r.rect);
    ui.add_space(4.0);
    let w = ui.available_width().max(120.0);
    let pic = Vec2::new(w, (ui.available_height() * 0.45).clamp(120.0, 260.0));
    let tr = Vec2::new(w.min(pic.y * 1.6), pic.y);
    match stage {
        Stage::Input => row(ui, ctl, &[(p.input.gain.as_ptr(), "Gain into the chain")]),
        Stage::Filters => {
            graph::response(ui, ctl, p, analyzer, sr, pic);
            let f = &p.filters;
            row(
                ui,
                ctl,
                &[
                    (f.hp_on.as_ptr(), "High-pass on/off"),
                    (f.hp_freq.as_ptr(), "High-pass cutoff: rumble and handling noise below it go"),
                    (f.hp_slope.as_ptr(), "High-pass steepness"),
                    (f.lp_on.as_ptr(), "Low-pass on/off"),
                    (f.lp_freq.as_ptr(), "Low-pass cutoff: hiss above it goes"),
                    (f.lp_slope.as_ptr(), "Low-pass steepness"),
                ],
            );
        }
        Stage::Eq => {
            graph::response(ui, ctl, p, analyzer, sr, pic);
            ui.horizontal_wrapped(|ui| {
                ui.spacing_mut().item_spacing = Vec2::new(14.0, 8.0);
                let knob = super::controls::KNOB_SIZE;
                for (k, [on, freq, gain, q]) in graph::eq_bands(p).into_iter().enumerate() {
                    ui.allocate_ui(Vec2::new(3.0 * knob.x + 4.0, knob.y + 26.0), |ui| {
                        ui.vertical(|ui| {
                            ctl.switch(ui, on, Some(graph::BAND_NAMES[k]), "This band on/off");
                            ui.horizontal(|ui| {
                                ui.spacing_mut().item_spacing.x = 2.0;
                                ctl.knob_named(ui, freq, "Freq", "Band frequency");
                                ctl.knob_named(ui, gain, "Gain", "Band gain (boost or cut)");
                                ctl.knob_named(ui, q, "Q", "Bandwidth: higher Q is narrower");
                            });
                        });
                    });
                }
            });
        }
        Stage::Feedback => {
            let (rect, _) = ui.allocate_exact_size(pic, Sense::hover());
            ctl.layout.add(ui, "graph:notches", rect);
            let srf = if sr > 0.0 { sr } else { 48_000.0 };
            super::spectrum::paint(ui, rect, analyzer, srf, true);
            let ax = graph::Axes { rect, hi_hz: super::spectrum::HI_HZ.min(srf * 0.5) };
            let painter = ui.painter_at(rect);
            let notches = bridge.fb_notches();
            for &(f, depth, fixed) in &notches {
                let x = ax.x_of(f);
                let colour = if fixed { Color32::from_rgb(240, 120, 90) } else { Color32::from_rgb(240, 200, 90) };
                painter.vline(x, rect.top()..=rect.top() + rect.height() * (depth / 18.0).clamp(0.05, 1.0), Stroke::new(3.0, colour));
                painter.text(
                    egui::pos2(x + 3.0, rect.top() + 2.0),
                    egui::Align2::LEFT_TOP,
                    format!("{f:.0}\n-{depth:.0}"),
                    egui::FontId::monospace(9.0),
                    colour,
                );
            }
            let fb = &p.feedback;
            row(
                ui,
                ctl,
                &[
                    (fb.mode.as_ptr(), "Notches only; plus the fixed set; plus a small frequency shift; plus the adaptive canceller"),
                    (fb.sensitivity.as_ptr(), "How readily a rising narrow peak counts as a howl"),
                    (fb.max_depth.as_ptr(), "The deepest a notch may go"),
                    (fb.width.as_ptr(), "Notch width"),
                    (fb.release.as_ptr(), "How slowly a notch lets go once its frequency stops threatening"),
                    (fb.count.as_ptr(), "How many notches may hold at once: more keep a lively room stable, fewer colour the sound less"),
                    (fb.learn.as_ptr(), "Ring out the room: notches found while on are kept as the fixed set"),
                ],
            );
            ui.horizontal(|ui| {
                // (In mode canceller it forgets the canceller's path too: before playing a take
                // back after a live loop, or in another room. The label no wider than the other.)
                let (label, hover) = if fb.mode.value() == crate::stages::feedback::FeedbackMode::Canceller {
                    ("Clear learnt", "Forget the fixed set learned while ringing out, and the loop the canceller learnt (before playing a take back, or in another room)")
                } else {
                    ("Clear fixed notches", "Forget the fixed set learned while ringing out")
                };
                let b = ui.button(label).on_hover_text(hover);
                ctl.layout.add(ui, "button:fb_clear", b.rect);
                if b.clicked() {
                    ctl.sink.gesture(fb.clear.as_ptr(), 1.0);
                    *clear_pressed = Some(std::time::Instant::now());
                }
                ui.label(
                    egui::RichText::new(format!("{} notches ({} fixed)", notches.len(), notches.iter().filter(|n| n.2).count()))
                        .color(Color32::GRAY),
                );
            });
        }
        Stage::Gate => {
            let g = &p.gate;
            let (th, range) = (g.threshold.value(), g.range.value());
            let open = bridge.gate_open.load(Ordering::Relaxed);
            let t = Transfer {
                key: "gate",
                x: (-90.0, 0.0),
                y: (-90.0, 0.0),
                x_label: "in (dB)",
                y_label: if open { "out · open" } else { "out · closed" },
                threshold: g.threshold.as_ptr(),
                on: g.on.value(),
                point: None,
            };
            graph::transfer(ui, ctl, t, tr, |x| if x >= th { x } else { x - range });
            row(
                ui,
                ctl,
                &[
                    (g.hysteresis.as_ptr(), "It closes this far below the threshold, so it does not chatter"),
                    (g.attack.as_ptr(), "Opening time"),
                    (g.hold.as_ptr(), "Stays open at least this long"),
                    (g.release.as_ptr(), "Closing time"),
                    (g.range.as_ptr(), "How far it turns down when closed"),
                    (g.lookahead.as_ptr(), "Opens this early (adds latency)"),
                    (g.sc_hp.as_ptr(), "Detector high-pass: ignore rumble"),
                    (g.sc_lp.as_ptr(), "Detector low-pass: ignore hiss and cymbals"),
                ],
            );
        }
        Stage::Agc => {
            let a = &p.agc;
            row(
                ui,
                ctl,
                &[
                    (a.target.as_ptr(), "The loudness it rides towards"),
                    (a.range.as_ptr(), "The most it will boost or cut"),
                    (a.speed.as_ptr(), "How fast it follows"),
                    (a.gate.as_ptr(), "Below this it holds its gain (pauses do not pump up)"),
                ],
            );
            ui.horizontal(|ui| {
                ui.label("Gain reduction (compressor)");
                let r = super::meters::gain_reduction_bar(ui, live.gr_db);
                ctl.layout.add(ui, "meter:agc-gr", r);
            });
        }
        Stage::Comp => {
            let d = &p.comp;
            let (th, ratio, knee) = (d.threshold.value(), d.ratio.value(), d.knee.value());
            let input = bridge.comp_input_db.load(Ordering::Relaxed);
            let t = Transfer {
                key: "comp",
                x: (-60.0, 0.0),
                y: (-60.0, 0.0),
                x_label: "in (dB)",
                y_label: "out (dB)",
                threshold: d.threshold.as_ptr(),
                on: d.on.value(),
                point: (input > -60.0).then(|| (input.min(0.0), crate::dsp::compressor::static_curve_db(input.min(0.0), th, ratio, knee))),
            };
            ui.horizontal(|ui| {
                graph::transfer(ui, ctl, t, tr, |x| crate::dsp::compressor::static_curve_db(x, th, ratio, knee));
                ui.vertical(|ui| {
                    ui.label("Gain reduction");
                    let r = super::meters::gain_reduction_bar(ui, live.gr_db);
                    ctl.layout.add(ui, "meter:comp-gr", r);
                });
            });
            row(
                ui,
                ctl,
                &[
                    (d.ratio.as_ptr(), "Above the threshold, this many dB in give one out"),
                    (d.knee.as_ptr(), "Width of the soft knee around the threshold"),
                    (d.attack.as_ptr(), "How fast it clamps down"),
                    (d.release.as_ptr(), "How fast it lets go"),
                    (d.makeup.as_ptr(), "Gain after compression"),
                    (d.auto_makeup.as_ptr(), "Makeup worked out from threshold and ratio"),
                    (d.lookahead.as_ptr(), "Sees peaks coming (this is the chain's latency)"),
                ],
            );
        }
        Stage::DeEsser => {
            let ds = &p.deess;
            let (th, range) = (ds.threshold.value(), ds.range.value());
            let t = Transfer {
                key: "deess",
                x: (-40.0, 0.0),
                y: (-24.0, 0.0),
                x_label: "sibilance over the voice (dB)",
                y_label: "reduction (dB)",
                threshold: ds.threshold.as_ptr(),
                on: ds.on.value(),
                point: None,
            };
            ui.horizontal(|ui| {
                graph::transfer(ui, ctl, t, tr, |x| crate::dsp::deesser::reduction_db(x, th, range));
                ui.vertical(|ui| {
                    ui.label("Reduction");
                    let r = super::meters::gain_reduction_bar(ui, live.deess_gr_db);
                    ctl.layout.add(ui, "meter:deess-gr", r);
                });
            });
            row(
                ui,
                ctl,
                &[
                    (ds.freq.as_ptr(), "Centre of the sibilance band"),
                    (ds.width.as_ptr(), "Width of the sibilance band"),
                    (ds.range.as_ptr(), "The most it turns down"),
                    (ds.mode.as_ptr(), "Split: only the band; wide: the whole voice"),
                    (ds.listen.as_ptr(), "Hear only what the detector hears"),
                ],
            );
        }
        Stage::Vocoder => {
            let (rect, _) = ui.allocate_exact_size(Vec2::new(w, pic.y * 0.6), Sense::hover());
            ctl.layout.add(ui, "graph:vocoder", rect);
            curves::vocoder_bands(ui, rect, bridge, p.vocoder.on.value());
            let v = &p.vocoder;
            row(
                ui,
                ctl,
                &[
                    (v.carrier.as_ptr(), "What the voice shapes"),
                    (v.wave.as_ptr(), "The synth's waveform"),
                    (v.hold.as_ptr(), "Hold the chord below (else MIDI notes play the synth)"),
                    (v.root.as_ptr(), "The held chord's root note"),
                    (v.chord.as_ptr(), "The held chord"),
                    (v.bands.as_ptr(), "Number of bands"),
                    (v.lo.as_ptr(), "Lowest band"),
                    (v.hi.as_ptr(), "Highest band"),
                    (v.width.as_ptr(), "Band width"),
                    (v.attack.as_ptr(), "How fast a band follows the voice up"),
                    (v.release.as_ptr(), "How fast a band falls"),
                    (v.shift.as_ptr(), "Formant shift"),
                    (v.unvoiced.as_ptr(), "Consonants (s, t, f) passed through as noise"),
                    (v.noise.as_ptr(), "Noise added to the carrier"),
                    (v.level.as_ptr(), "Vocoder output level"),
                    (v.mix.as_ptr(), "Vocoder against the dry voice"),
                ],
            );
        }
        Stage::Delay => {
            let (rect, _) = ui.allocate_exact_size(Vec2::new(w, pic.y * 0.7), Sense::hover());
            ctl.layout.add(ui, "graph:delay", rect);
            let d = &p.delay;
            curves::delay_taps(
                ui,
                rect,
                d.time.value(),
                d.sync.value().then(|| format!("{:?} {:?}", d.note.value(), d.feel.value())),
                d.feedback.value() / 100.0,
                d.ping_pong.value(),
                d.on.value(),
            );
            row(
                ui,
                ctl,
                &[
                    (d.time.as_ptr(), "Time between echoes (when not synced)"),
                    (d.sync.as_ptr(), "Follow the host's tempo"),
                    (d.note.as_ptr(), "Note length when synced"),
                    (d.feel.as_ptr(), "Straight, dotted or triplet"),
                    (d.feedback.as_ptr(), "How much of each echo comes back"),
                    (d.tone.as_ptr(), "Darker echoes as they repeat"),
                    (d.ping_pong.as_ptr(), "Echoes alternate left and right"),
                    (d.mix.as_ptr(), "Echoes against the direct sound"),
                ],
            );
        }
        Stage::Reverb => {
            let (rect, _) = ui.allocate_exact_size(Vec2::new(w, pic.y * 0.7), Sense::hover());
            ctl.layout.add(ui, "graph:reverb", rect);
            let r = &p.reverb;
            curves::reverb_decay(ui, rect, r.predelay.value(), r.decay.value(), r.early.value() / 100.0, r.on.value());
            row(
                ui,
                ctl,
                &[
                    (r.predelay.as_ptr(), "Gap before the reverb starts"),
                    (r.size.as_ptr(), "Room size"),
                    (r.decay.as_ptr(), "Time to fall by 60 dB"),
                    (r.damping.as_ptr(), "High frequencies die sooner"),
                    (r.modulation.as_ptr(), "Slow movement that avoids metallic ringing"),
                    (r.width.as_ptr(), "Stereo width"),
                    (r.early.as_ptr(), "Early reflections"),
                    (r.mix.as_ptr(), "Reverb against the direct sound"),
                ],
            );
        }
        Stage::Output => {
            let o = &p.output;
            row(
                ui,
                ctl,
                &[
                    (o.gain.as_ptr(), "Gain after the chain"),
                    (o.mix.as_ptr(), "0 %: the input (latency-compensated); 100 %: the chain"),
                    (o.ceiling_on.as_ptr(), "No sample goes above the ceiling"),
                    (o.ceiling.as_ptr(), "The ceiling"),
                    (o.bypass.as_ptr(), "Bypass: a click-free crossfade to the input (the host's bypass)"),
                ],
            );
        }
    }
}
