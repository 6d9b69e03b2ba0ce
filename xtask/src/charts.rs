//! `cargo xtask charts`: the benchmark figures recorded in `docs/bench-data.csv` drawn as SVG
//! charts in `docs/` (which `docs/benchmarks.md` shows), and the charts of one `cargo xtask
//! compare` run (from the CSV `benches/compare.py --csv` writes).
//!
//! The data is one long table, `chart,category,series,value`: a chart is every row with its
//! name, drawn as `SPECS` says. A value is a number, `>N` (at least N: a loop that never ran
//! away) or `A..B` (a spread over runs). A series whose name starts with `goal` is drawn as a
//! dashed line, not a bar or a curve: across its category's bars, or across the whole chart when
//! its category is empty.

use anyhow::{bail, Context, Result};
use plotters::prelude::SeriesLabelPosition;
use std::path::Path;

mod draw;

/// The committed figures and where their charts go.
pub const DATA: &str = "docs/bench-data.csv";
pub const OUT: &str = "docs";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Exact(f64),
    AtLeast(f64),
    Range(f64, f64),
}

impl Value {
    fn parse(s: &str) -> Option<Value> {
        if let Some(v) = s.strip_prefix('>') {
            return v.trim().parse().ok().map(Value::AtLeast);
        }
        if let Some((a, b)) = s.split_once("..") {
            return Some(Value::Range(a.trim().parse().ok()?, b.trim().parse().ok()?));
        }
        s.parse().ok().map(Value::Exact)
    }

    fn low(self) -> f64 {
        match self {
            Value::Exact(v) | Value::AtLeast(v) | Value::Range(v, _) => v,
        }
    }

    fn high(self) -> f64 {
        match self {
            Value::Exact(v) | Value::AtLeast(v) | Value::Range(_, v) => v,
        }
    }

    /// As written in the data for a plain number (so "5.0" keeps its decimal), else read back.
    fn text(self, raw: &str) -> String {
        match self {
            Value::Exact(_) => raw.to_string(),
            Value::AtLeast(v) => format!("> {}", num(v)),
            Value::Range(a, b) => format!("{}–{}", num(a), num(b)),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Row {
    pub chart: String,
    pub category: String,
    pub series: String,
    pub value: Value,
    /// The value as written.
    pub raw: String,
}

impl Row {
    fn is_goal(&self) -> bool {
        self.series.starts_with("goal")
    }
}

/// Reads the long table; `origin` names it in errors. Blank lines, `#` lines and the header are
/// skipped.
pub fn parse(text: &str, origin: &str) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("chart,category,") {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [chart, category, series, value_text] = fields[..] else {
            bail!("{origin}:{}: {} fields, expected 4 (chart,category,series,value; no commas inside a field)", n + 1, fields.len());
        };
        let value =
            Value::parse(value_text).with_context(|| format!("{origin}:{}: '{value_text}' is not a number, '>N' or 'A..B'", n + 1))?;
        rows.push(Row { chart: chart.into(), category: category.into(), series: series.into(), value, raw: value_text.into() });
    }
    Ok(rows)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Horizontal bars, one slot per category (top to bottom in the data's order), the series
    /// side by side in it.
    Bars,
    /// The categories along the bottom in the data's order, one line per series.
    Lines,
}

struct Spec {
    chart: &'static str,
    file: &'static str,
    title: &'static str,
    /// The value axis.
    axis: &'static str,
    /// The category axis of a line chart.
    across: &'static str,
    kind: Kind,
    log: bool,
    from_zero: bool,
    /// Written after a bar's value.
    unit: &'static str,
    /// Also give a bar as a share of one core (its value is ns per stereo frame at 48 kHz).
    core_share: bool,
    legend: SeriesLabelPosition,
    /// What measured it.
    source: &'static str,
}

const fn spec(chart: &'static str, file: &'static str, kind: Kind, title: &'static str, axis: &'static str) -> Spec {
    Spec {
        chart,
        file,
        title,
        axis,
        across: "",
        kind,
        log: false,
        from_zero: true,
        unit: "",
        core_share: false,
        legend: SeriesLabelPosition::UpperRight,
        source: "",
    }
}

const SPECS: [Spec; 10] = [
    Spec {
        source: "callgrind on examples/stage_profile: 10 s of the seeded signal in 64-frame blocks, a stage's count minus the bare chain's",
        ..spec(
            "stage-instructions",
            "bench-stages.svg",
            Kind::Bars,
            "Each stage's cost over the bare chain",
            "instructions per stereo frame (exact, any machine)",
        )
    },
    Spec {
        core_share: true,
        unit: " ns",
        source: "criterion: best of five 1 s runs; compare.py: Livechain's VST3 with one stage on, minus none on",
        ..spec(
            "stage-time",
            "bench-stage-time.svg",
            Kind::Bars,
            "Each stage's time over the bare chain",
            "ns per stereo frame at 48 kHz, 64-frame blocks (and % of one core)",
        )
    },
    Spec {
        across: "optimisation pass, then stages added",
        source: "callgrind on examples/stage_profile (all, meters, editor, automate); \"+3 stages\": gate, EQ and de-esser",
        ..spec("history", "bench-history.svg", Kind::Lines, "The whole chain over the passes", "instructions per stereo frame")
    },
    Spec {
        across: "optimisation pass",
        log: true,
        source: "callgrind on examples/stage_profile, each stage's count minus the bare chain's",
        ..spec(
            "stage-history",
            "bench-stage-history.svg",
            Kind::Lines,
            "Each stage over the passes",
            "instructions per stereo frame (log scale)",
        )
    },
    Spec {
        across: "percentile of a million blocks",
        log: true,
        unit: " µs",
        legend: SeriesLabelPosition::LowerRight,
        source: "cargo xtask worst-case: 10^6 blocks of 32 frames, every stage and the meters on, ten parameters automated",
        ..spec("worst-case", "bench-worst-case.svg", Kind::Lines, "Time per 32-frame block at 48 kHz", "µs per block (log scale)")
    },
    Spec {
        log: true,
        unit: " %",
        source: "cargo xtask compare: stereo music and speech (30 s unless told), 64-frame blocks; % = processing time / audio time",
        ..spec("compare", "bench-compare.svg", Kind::Bars, "The same chain three ways", "% of one core at 64-frame blocks (log scale)")
    },
    Spec {
        unit: " ns",
        core_share: true,
        source: "cargo xtask compare, second table: one stage on in each (a stage's own cost is its row minus the first)",
        ..spec(
            "compare-stages",
            "bench-compare-stages.svg",
            Kind::Bars,
            "Stage by stage in one host (pedalboard)",
            "ns per stereo frame at 48 kHz (and % of one core)",
        )
    },
    Spec {
        unit: " dB",
        source: "cargo xtask howl: loop gain rising 1 dB/s until the loop runs away; ASG = where it ran away minus with the suppressor off",
        ..spec(
            "howl",
            "howl-asg.svg",
            Kind::Bars,
            "Added stable gain in a simulated closed loop",
            "ASG in dB (more is better; the dashed lines are the goals)",
        )
    },
    Spec {
        log: true,
        unit: " samples",
        source: "livechain latency (device loop) and the standalone's --measure-loop (its own round trip)",
        ..spec("latency", "latency.svg", Kind::Bars, "Measured round trips", "round trip in samples (log scale)")
    },
    Spec {
        across: "vocoder bands",
        from_zero: false,
        source: "tests/hosts/test_vocoder.py: espeak-ng sentences through the VST3 in pedalboard, the saw on the held chord",
        ..spec(
            "vocoder-stoi",
            "vocoder-stoi.svg",
            Kind::Lines,
            "Intelligibility of vocoded speech",
            "STOI against the dry voice (pystoi; 1 = identical)",
        )
    },
];

/// `cargo xtask charts [--data FILE] [--out DIR]`.
pub fn command(root: &Path, args: &[String]) -> Result<()> {
    let (mut data, mut out) = (root.join(DATA), root.join(OUT));
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => data = root.join(it.next().context("--data needs a file")?),
            "--out" => out = root.join(it.next().context("--out needs a folder")?),
            other => bail!("charts: unknown argument '{other}' (usage: cargo xtask charts [--data FILE] [--out DIR])"),
        }
    }
    for path in draw_file(&data, &out)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Draws every chart `data` has rows for into `out`; returns the files written.
pub fn draw_file(data: &Path, out: &Path) -> Result<Vec<std::path::PathBuf>> {
    let text = std::fs::read_to_string(data).with_context(|| format!("reading {}", data.display()))?;
    let rows = parse(&text, &data.display().to_string())?;
    if let Some(r) = rows.iter().find(|r| !SPECS.iter().any(|s| s.chart == r.chart)) {
        let known: Vec<&str> = SPECS.iter().map(|s| s.chart).collect();
        bail!("{}: no chart is called '{}' (known: {})", data.display(), r.chart, known.join(", "));
    }
    std::fs::create_dir_all(out)?;
    let mut written = Vec::new();
    for spec in &SPECS {
        let mine: Vec<&Row> = rows.iter().filter(|r| r.chart == spec.chart).collect();
        if mine.is_empty() {
            continue;
        }
        let path = out.join(spec.file);
        draw::draw(spec, &mine, &path).with_context(|| format!("drawing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The distinct values in first-seen order.
fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for s in items {
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen
}

/// A figure with four significant digits at most, no trailing zeros.
fn num(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (3 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_rows_parse() {
        assert_eq!(Value::parse(">18.2"), Some(Value::AtLeast(18.2)));
        assert_eq!(Value::parse("4.5..4.6"), Some(Value::Range(4.5, 4.6)));
        assert_eq!(Value::parse("x"), None);
        let rows = parse("chart,category,series,value\n# note\nhowl,club,on,0.3\n", "t").unwrap();
        assert_eq!(rows.len(), 1);
        assert!(parse("howl,club,on\n", "t").is_err());
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(666.7), "666.7");
        assert_eq!(num(1279.0), "1279");
        assert_eq!(num(0.151), "0.151");
        assert_eq!(num(4.0), "4");
    }
}
