//! The editor used as a player would, with the mouse and keyboard (xdotool) on the real
//! standalone under Xvfb: a stage switched on from its tile, an EQ node dragged to a frequency
//! and gain read back from the parameters, a knob dragged (and dragged finely with Shift),
//! turned with the wheel, double-clicked back to its default and typed into with a unit, an
//! edit undone and redone from the keyboard, and A/B compared. Where things are comes from the
//! editor's own layout record; what changed comes from the parameters in it. Needs Xvfb,
//! xdotool and the test bundle (`cargo xtask test`).

mod common;
use common::editor::{dial, start, Editor};

fn near(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: {got}, expected {want} ± {tol}");
}

#[test]
#[ignore = "system: the bundled standalone under Xvfb (cargo xtask test)"]
fn the_editor_answers_the_mouse_and_keyboard_like_a_plugin() {
    let ed = start("1180x860@1", "interact");
    let v = ed.until("the window's size", |v| v["window"][0].as_f64().unwrap() > 1000.0 && v["window"][0].as_f64().unwrap() < 2000.0);
    let p = |v: &serde_json::Value, id: &str| Editor::param(v, id);

    // A stage switched on by the switch on its tile.
    assert_eq!(p(&v, "rev_on"), 0.0);
    let (x, y) = Editor::centre(Editor::rect(&v, "switch:reverb"));
    ed.click(x, y);
    let v = ed.until("the reverb switched on", |v| p(v, "rev_on") == 1.0);
    eprintln!("reverb on from its tile");

    // The EQ (selected at start): drag Bell 2's node to 60 % across and a quarter down.
    let graph = Editor::rect(&v, "graph:response");
    let node = Editor::centre(Editor::rect(&v, "node:eq3"));
    near(p(&v, "eq3_freq"), 1000.0, 0.01, "Bell 2's default frequency");
    let to = (graph[0] + 0.6 * (graph[2] - graph[0]), graph[1] + 0.25 * (graph[3] - graph[1]));
    ed.drag(node, to, None);
    // The picture's axes (`src/editor/graph.rs`): 20 Hz to 20 kHz (at 48 kHz) across, ±24 dB.
    let want_f = 20.0 * 1000f64.powf(0.6);
    let want_g = 12.0;
    ed.until("Bell 2 moved", |v| (p(v, "eq3_freq") - 1000.0).abs() > 1.0);
    let v = ed.until("the drag to land", |v| (p(v, "eq3_gain") - want_g).abs() < 1.0 && (p(v, "eq3_freq") / want_f - 1.0).abs() < 0.05);
    eprintln!("node dragged: {:.1} Hz {:+.2} dB (aimed at {want_f:.1} Hz {want_g:+.1} dB)", p(&v, "eq3_freq"), p(&v, "eq3_gain"));
    near(p(&v, "eq3_freq") / want_f, 1.0, 0.03, "dragged frequency / aimed");
    near(p(&v, "eq3_gain"), want_g, 0.5, "dragged gain (dB)");

    // A knob: double-click returns the frequency to its default.
    let knob = Editor::rect(&v, "knob:eq3_freq");
    let (x, y) = dial(knob);
    ed.double_click(x, y);
    let v = ed.until("the frequency back to 1000 Hz", |v| (p(v, "eq3_freq") - 1000.0).abs() < 0.5);
    eprintln!("double-click: {} Hz", p(&v, "eq3_freq"));

    // Typed with its unit.
    ed.type_value("eq3_gain", "-3 dB");
    let v = ed.until("the typed gain", |v| (p(v, "eq3_gain") + 3.0).abs() < 0.01);
    eprintln!("typed -3 dB: {}", p(&v, "eq3_gain"));

    // Undo and redo from the keyboard (the pointer over the picture, away from any text field).
    ed.move_to(graph[0] + 5.0, graph[1] + 5.0);
    ed.keys(&["ctrl+z"]);
    let v = ed.until("undo", |v| (p(v, "eq3_gain") - 12.0).abs() < 1.0);
    eprintln!("ctrl+z: {}", p(&v, "eq3_gain"));
    ed.keys(&["ctrl+shift+z"]);
    ed.until("redo", |v| (p(v, "eq3_gain") + 3.0).abs() < 0.01);

    // Dragging the gain knob up 40 points moves it a fifth of its 48 dB range; with Shift, a
    // tenth of that.
    let (x, y) = dial(Editor::rect(&v, "knob:eq3_gain"));
    ed.drag((x, y), (x, y - 40.0), None);
    let v = ed.until("the knob drag", |v| (p(v, "eq3_gain") + 3.0).abs() > 1.0);
    let coarse = p(&v, "eq3_gain") + 3.0;
    ed.drag((x, y), (x, y - 40.0), Some("shift"));
    let v = ed.until("the fine drag", |v| (p(v, "eq3_gain") + 3.0 - coarse).abs() > 0.1);
    let fine = p(&v, "eq3_gain") + 3.0 - coarse;
    eprintln!("40-point drags: {coarse:.2} dB, then {fine:.2} dB with Shift");
    near(coarse, 9.6, 1.0, "a 40-point drag (dB)");
    near(fine, 0.96, 0.2, "a 40-point Shift drag (dB)");

    // The wheel: one notch up is 1 % of the range (0.48 dB).
    let before = p(&v, "eq3_gain");
    ed.move_to(x, y);
    ed.xdotool(&["click".into(), "4".into()]);
    let v = ed.until("the wheel", |v| (p(v, "eq3_gain") - before).abs() > 0.1);
    eprintln!("one wheel notch: {:+.3} dB", p(&v, "eq3_gain") - before);
    near(p(&v, "eq3_gain") - before, 0.48, 0.05, "one wheel notch (dB)");

    // A/B: B starts as a copy; a change in B is gone in A and back in B.
    let a_gain = p(&v, "eq3_gain");
    let (x, y) = Editor::centre(Editor::rect(&v, "header:B"));
    ed.click(x, y);
    let v = ed.until("slot B", |v| v["slot"] == "B");
    near(p(&v, "eq3_gain"), a_gain, 1e-4, "B starts as a copy of A");
    let (dx, dy) = dial(Editor::rect(&v, "knob:eq3_gain"));
    ed.double_click(dx, dy);
    let v = ed.until("B's gain at its default", |v| p(v, "eq3_gain").abs() < 0.01);
    let (x, y) = Editor::centre(Editor::rect(&v, "header:A"));
    ed.click(x, y);
    let v = ed.until("back to A", |v| v["slot"] == "A" && (p(v, "eq3_gain") - a_gain).abs() < 1e-3);
    let (x, y) = Editor::centre(Editor::rect(&v, "header:B"));
    ed.click(x, y);
    let v = ed.until("B again", |v| v["slot"] == "B" && p(v, "eq3_gain").abs() < 0.01);
    assert_eq!(p(&v, "rev_on"), 1.0, "A/B keeps every other setting");
    eprintln!("A/B: A {a_gain:.2} dB, B {} dB", p(&v, "eq3_gain"));
}
