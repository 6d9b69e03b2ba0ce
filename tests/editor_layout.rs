//! The editor's layout at 50 %, 100 % and 200 % zoom and in a small and a large window, in the
//! real standalone under Xvfb: every stage is selected by clicking its tile in the signal-flow
//! strip, and for each the editor's own record of where its widgets landed must show every widget
//! inside the window, none cut at a side, and none overlapping another (a switch sits inside its
//! tile, a node inside its graph, nothing else). A screenshot of each size goes to
//! `target/screenshots/`. Needs Xvfb, xdotool, xwd and the test bundle (`cargo xtask test`).

mod common;
use common::editor::{start, Editor};
use serde_json::Value;

/// The stages in the strip's order (`src/editor/stages.rs`).
const STAGES: [&str; 12] = ["input", "filters", "feedback", "gate", "eq", "agc", "comp", "deess", "vocoder", "delay", "reverb", "output"];

/// Half a pixel of slack for rounding.
const EPS: f32 = 0.5;

struct W {
    id: String,
    parent: Option<String>,
    rect: [f32; 4],
    clip: [f32; 4],
    scrolling: bool,
}

fn widgets(v: &Value) -> Vec<W> {
    let r = |x: &Value| -> [f32; 4] {
        let a: Vec<f32> = x.as_array().unwrap().iter().map(|f| f.as_f64().unwrap() as f32).collect();
        [a[0], a[1], a[2], a[3]]
    };
    v["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| W {
            id: w["id"].as_str().unwrap().to_string(),
            parent: w["parent"].as_str().map(str::to_string),
            rect: r(&w["rect"]),
            clip: r(&w["clip"]),
            scrolling: w["scrolling"].as_bool().unwrap(),
        })
        .collect()
}

fn intersect(a: [f32; 4], b: [f32; 4]) -> [f32; 4] {
    [a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])]
}

fn area(r: [f32; 4]) -> f32 {
    (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0)
}

fn inside(a: [f32; 4], b: [f32; 4]) -> bool {
    a[0] >= b[0] - EPS && a[1] >= b[1] - EPS && a[2] <= b[2] + EPS && a[3] <= b[3] + EPS
}

/// Everything wrong with one layout record, as lines.
fn problems(v: &Value, window: (f32, f32)) -> Vec<String> {
    let mut out = Vec::new();
    let win = [0.0, 0.0, window.0, window.1];
    let ws = widgets(v);
    if ws.len() < 20 {
        out.push(format!("only {} widgets recorded", ws.len()));
    }
    for w in &ws {
        if !(w.rect.iter().all(|x| x.is_finite()) && w.rect[2] > w.rect[0] && w.rect[3] > w.rect[1]) {
            out.push(format!("{}: empty or bad rectangle {:?}", w.id, w.rect));
            continue;
        }
        if !inside(w.clip, win) {
            out.push(format!("{}: drawn in {:?}, which leaves the window {:?}", w.id, w.clip, win));
        }
        // Never cut at a side; at the top or bottom only inside a scroll area.
        if w.rect[0] < w.clip[0] - EPS || w.rect[2] > w.clip[2] + EPS {
            out.push(format!("{}: {:?} cut at a side of its area {:?}", w.id, w.rect, w.clip));
        }
        if !w.scrolling && (w.rect[1] < w.clip[1] - EPS || w.rect[3] > w.clip[3] + EPS) {
            out.push(format!("{}: {:?} cut at the top or bottom of {:?}", w.id, w.rect, w.clip));
        }
        if let Some(p) = &w.parent {
            match ws.iter().find(|q| &q.id == p) {
                Some(q) if !inside(w.rect, q.rect) => out.push(format!("{}: {:?} not inside {} {:?}", w.id, w.rect, p, q.rect)),
                None => out.push(format!("{}: its parent {p} is not on screen", w.id)),
                _ => {}
            }
        }
    }
    for (i, a) in ws.iter().enumerate() {
        for b in &ws[i + 1..] {
            let related = a.parent.as_ref() == Some(&b.id) || b.parent.as_ref() == Some(&a.id);
            // Nodes sit where their values put them: two bands set close together overlap on
            // any EQ's curve, and the one drawn last takes the mouse.
            let nodes = a.id.starts_with("node:") && b.id.starts_with("node:");
            if related || nodes {
                continue;
            }
            // What shows of each: its rectangle inside the area it is drawn in.
            let (va, vb) = (intersect(a.rect, a.clip), intersect(b.rect, b.clip));
            let overlap = area(intersect(va, vb));
            if overlap > 1.0 {
                out.push(format!("{} {:?} and {} {:?} overlap by {overlap:.1} square points", a.id, a.rect, b.id, b.rect));
            }
        }
    }
    out
}

/// One editor at a time: five software-rendered windows at once on two cores drop clicks.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn check_size(geometry: &str, name: &str) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (size, _) = geometry.split_once('@').unwrap();
    let (w, h) = size.split_once('x').unwrap();
    let window = (w.parse::<f32>().unwrap(), h.parse::<f32>().unwrap());
    let ed = start(geometry, name);
    // egui's first frame has no size yet.
    let first = ed.until(&format!("the {name} window's size"), |v| (v["window"][0].as_f64().unwrap() as f32 - window.0).abs() < 1.0);
    let got = (first["window"][0].as_f64().unwrap() as f32, first["window"][1].as_f64().unwrap() as f32);
    assert!((got.0 - window.0).abs() < 1.0 && (got.1 - window.1).abs() < 1.0, "{name}: window {got:?}, asked for {window:?}");
    assert!((first["zoom"].as_f64().unwrap() as f32 - ed.zoom).abs() < 1e-3, "{name}: zoom {}", first["zoom"]);
    let mut all = Vec::new();
    let mut seen = 0;
    for stage in STAGES {
        let now = ed.read();
        let tile = Editor::rect(&now, &format!("tile:{stage}"));
        // The tile's name, away from its switch. A loaded machine may drop a click while the
        // window is still settling, so it is tried again.
        for _ in 0..3 {
            ed.click(tile[0] + 12.0, tile[1] + 8.0);
            if ed.within(std::time::Duration::from_secs(5), |v| v["selected"] == stage) {
                break;
            }
        }
        ed.until(&format!("{stage} selected at {name}"), |v| v["selected"] == stage);
        let v = ed.fresh();
        assert_eq!(v["selected"], stage);
        seen += widgets(&v).len();
        for p in problems(&v, window) {
            all.push(format!("{name}, {stage}: {p}"));
        }
        if stage == "eq" {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
            std::fs::create_dir_all(&dir).unwrap();
            let shot = common::xwd::screenshot(&ed.display);
            let (pw, ph) = ((window.0 * ed.zoom) as usize, (window.1 * ed.zoom) as usize);
            shot.crop(0, 0, pw.min(shot.width), ph.min(shot.height)).save_png(&dir.join(format!("editor-{name}.png"))).unwrap();
            // The window is painted: egui's dark panels cover most of it.
            let dark = shot.count([27, 27, 27], 4, 0, pw.min(shot.width));
            assert!(dark > pw * ph / 5, "{name}: the window is not painted ({dark} panel pixels)");
        }
    }
    eprintln!("{name} ({geometry}): {seen} widgets over 12 stages, {} problems", all.len());
    assert!(all.is_empty(), "layout problems:\n{}", all.join("\n"));
}

#[test]
#[ignore = "system: the bundled standalone under Xvfb (cargo xtask test)"]
fn every_stage_lays_out_at_100_percent() {
    check_size("1180x860@1", "100");
}

#[test]
#[ignore = "system: the bundled standalone under Xvfb (cargo xtask test)"]
fn every_stage_lays_out_at_50_percent() {
    check_size("1180x860@0.5", "50");
}

#[test]
#[ignore = "system: the bundled standalone under Xvfb (cargo xtask test)"]
fn every_stage_lays_out_at_200_percent() {
    check_size("600x440@2", "200");
}

#[test]
#[ignore = "system: the bundled standalone under Xvfb (cargo xtask test)"]
fn every_stage_lays_out_in_the_smallest_window() {
    check_size("480x320@1", "small");
}

#[test]
#[ignore = "system: the bundled standalone under Xvfb (cargo xtask test)"]
fn every_stage_lays_out_in_a_large_window() {
    check_size("1270x890@1", "large");
}

#[test]
fn the_checks_catch_a_cut_and_an_overlap() {
    let v: Value = serde_json::json!({"widgets": [
        {"id": "a", "parent": null, "rect": [0, 0, 50, 20], "clip": [0, 0, 100, 100], "scrolling": false},
        {"id": "b", "parent": null, "rect": [40, 10, 90, 30], "clip": [0, 0, 100, 100], "scrolling": false},
        {"id": "c", "parent": null, "rect": [80, 50, 120, 60], "clip": [0, 0, 100, 100], "scrolling": false},
        {"id": "d", "parent": "a", "rect": [5, 5, 15, 15], "clip": [0, 0, 100, 100], "scrolling": false},
    ]});
    let p = problems(&v, (100.0, 100.0));
    assert!(p.iter().any(|l| l.starts_with("a ") && l.contains("overlap")), "{p:?}");
    assert!(p.iter().any(|l| l.starts_with("c:") && l.contains("side")), "{p:?}");
    assert!(!p.iter().any(|l| l.contains("d [5.0")), "a child inside its parent is fine: {p:?}");
    assert!(p.iter().any(|l| l.contains("only 4 widgets")), "{p:?}");
}
