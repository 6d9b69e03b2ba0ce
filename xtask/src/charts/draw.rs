//! Drawing one chart of `SPECS` with plotters' SVG backend: horizontal bars or curves over
//! categories, a linear or log value axis, goals as dashed lines, each figure written beside its
//! bar.

use super::{distinct, num, Kind, Row, Spec, Value};
use anyhow::Result;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// A sample's share of one core: ns per stereo frame at 48 kHz against the frame's 20 833 ns.
const FRAME_NS_48K: f64 = 1e9 / 48_000.0;

/// A share with two significant digits ("0.30", "0.0029").
fn share(v: f64) -> String {
    if v <= 0.0 || !v.is_finite() {
        return "0".into();
    }
    let decimals = (1 - v.log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

/// Colour-blind-safe (Okabe and Ito's), in series order.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(90, 90, 90),
];
const GOAL: RGBColor = RGBColor(200, 0, 0);
const FONT: &str = "sans-serif";

/// The value axis: linear or log (drawn as log10 of the value), with its ticks.
struct Scale {
    log: bool,
    lo: f64,
    hi: f64,
    step: f64,
}

impl Scale {
    /// Fits `values` with `headroom` (a factor on the largest) to spare for the bars' labels.
    fn fit(values: impl Iterator<Item = f64>, log: bool, from_zero: bool, headroom: f64) -> Scale {
        let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        if log {
            let lo = 10f64.powf(min.max(1e-12).log10().floor());
            // Bars want room for their labels, not the rest of a decade; curves end on a decade.
            let hi = if headroom > 1.0 { max * headroom } else { 10f64.powf(max.log10().ceil()) }.max(lo * 10.0);
            return Scale { log, lo, hi, step: 0.0 };
        }
        let bottom = if from_zero { 0.0 } else { min };
        let raw = ((max * headroom - bottom) / 6.0).max(1e-9);
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
        let lo = if from_zero { 0.0 } else { ((min - step / 2.0) / step).floor() * step };
        Scale { log, lo, hi: (max * headroom / step).ceil() * step, step }
    }

    fn at(&self, v: f64) -> f64 {
        if self.log {
            v.max(self.lo).log10()
        } else {
            v
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.at(self.lo)..self.at(self.hi)
    }

    /// Tick positions, in drawing coordinates.
    fn ticks(&self) -> Vec<f64> {
        if !self.log {
            let n = ((self.hi - self.lo) / self.step).round() as i64;
            return (0..=n).map(|k| self.lo + k as f64 * self.step).collect();
        }
        let decades = (self.hi / self.lo).log10().ceil() as i32;
        let steps: &[f64] = if decades <= 3 { &[1.0, 2.0, 5.0] } else { &[1.0] };
        let mut ticks = Vec::new();
        for d in 0..=decades {
            for m in steps {
                let v = self.lo * 10f64.powi(d) * m;
                if v <= self.hi * 1.0001 {
                    ticks.push(v.log10());
                }
            }
        }
        ticks
    }

    fn label(&self, c: f64) -> String {
        num(if self.log { 10f64.powf(c) } else { c })
    }
}

/// A linear axis with the ticks given: plotters' own float axis chooses its ticks itself, and a
/// category axis needs one at each category, a log axis at 1, 2 and 5 of each decade.
#[derive(Clone)]
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

impl Scale {
    fn axis(&self) -> Ticked {
        let r = self.range();
        Ticked { lo: r.start, hi: r.end, ticks: self.ticks() }
    }
}

/// The category axis: category i at i.
fn slots(n: usize, pad: f64) -> Ticked {
    Ticked { lo: -pad, hi: n as f64 - 1.0 + pad, ticks: (0..n).map(|i| i as f64).collect() }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

pub(super) fn draw(spec: &Spec, rows: &[&Row], path: &Path) -> Result<()> {
    let categories = distinct(rows.iter().map(|r| r.category.as_str()).filter(|c| !c.is_empty()));
    let series = distinct(rows.iter().filter(|r| !r.is_goal()).map(|r| r.series.as_str()));
    let size = match spec.kind {
        Kind::Bars => {
            let per_slot = if single_series_slots(rows) { 1 } else { series.len() };
            (960, 150 + categories.len() as u32 * (12 + 18 * per_slot as u32))
        }
        Kind::Lines => (960, 540),
    };
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let (main, foot) = root.split_vertically(size.1 - 26);
    foot.draw(&Text::new(format!("Source: {}", spec.source), (16, 4), (FONT, 14).into_font().color(&RGBColor(80, 80, 80))))?;
    match spec.kind {
        Kind::Bars => bars(spec, rows, &categories, &series, &main)?,
        Kind::Lines => lines(spec, rows, &categories, &series, &main)?,
    }
    root.present()?;
    Ok(())
}

/// True when no category has more than one series: each bar then fills its slot.
fn single_series_slots(rows: &[&Row]) -> bool {
    let bars: Vec<&&Row> = rows.iter().filter(|r| !r.is_goal()).collect();
    bars.iter().all(|r| bars.iter().filter(|o| o.category == r.category).count() == 1)
}

fn bars(spec: &Spec, rows: &[&Row], categories: &[&str], series: &[&str], area: &Area) -> Result<()> {
    let headroom = if spec.core_share { 1.45 } else { 1.25 };
    let scale = Scale::fit(rows.iter().map(|r| r.value.high()), spec.log, spec.from_zero, if spec.log { 3.0 } else { headroom });
    let n = categories.len();
    let label_width = categories.iter().map(|c| c.chars().count()).max().unwrap_or(0) as u32 * 9 + 24;
    // Category i sits at y = n - 1 - i, so the first is at the top.
    let slot_of = |y: f64| n.checked_sub(1 + y.round() as usize).and_then(|i| categories.get(i)).map_or(String::new(), |c| c.to_string());
    let mut chart = ChartBuilder::on(area)
        .caption(spec.title, (FONT, 26))
        .margin(16)
        .x_label_area_size(52)
        .y_label_area_size(label_width)
        .build_cartesian_2d(scale.axis(), slots(n, 0.5))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(spec.axis)
        .x_label_formatter(&|x| scale.label(*x))
        .y_label_formatter(&|y| slot_of(*y))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .light_line_style(TRANSPARENT)
        .draw()?;
    let single = single_series_slots(rows);
    let per_slot = if single { 1 } else { series.len() };
    let height = 0.8 / per_slot as f64;
    // A bar's band: its category's slot, its series' place in it.
    let band = |row: &Row| {
        let i = categories.iter().position(|c| *c == row.category).unwrap_or(0);
        let j = if single { 0 } else { series.iter().position(|s| *s == row.series).unwrap_or(0) };
        let top = (n - 1 - i) as f64 + 0.4 - j as f64 * height;
        (top - 0.08 * height, top - 0.92 * height)
    };
    let base = scale.at(scale.lo.max(0.0));
    for (k, name) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let mine: Vec<&&Row> = rows.iter().filter(|r| r.series == *name).collect();
        let solid = mine.iter().map(|r| {
            let (y0, y1) = band(r);
            Rectangle::new([(base, y0), (scale.at(r.value.low()), y1)], color.filled())
        });
        let anno = chart.draw_series(solid)?;
        if series.len() > 1 {
            anno.label(*name).legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
        }
        // A spread is drawn lighter from its lowest to its highest run.
        let spread = mine.iter().filter(|r| matches!(r.value, Value::Range(..))).map(|r| {
            let (y0, y1) = band(r);
            Rectangle::new([(scale.at(r.value.low()), y0), (scale.at(r.value.high()), y1)], color.mix(0.4).filled())
        });
        chart.draw_series(spread)?;
    }
    let goals: Vec<&&Row> = rows.iter().filter(|r| r.is_goal() && !r.category.is_empty()).collect();
    for (k, r) in goals.iter().enumerate() {
        let i = categories.iter().position(|c| *c == r.category).unwrap_or(0);
        let (x, y) = (scale.at(r.value.high()), (n - 1 - i) as f64);
        let anno = chart.draw_series(DashedLineSeries::new([(x, y - 0.48), (x, y + 0.48)], 6, 4, GOAL.stroke_width(2)))?;
        if k == 0 {
            anno.label(r.series.as_str()).legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], GOAL.stroke_width(2)));
        }
    }
    // The figures last, over the goal lines.
    let labels = rows.iter().filter(|r| !r.is_goal()).map(|r| {
        let (y0, y1) = band(r);
        let mut text = format!("{}{}", r.value.text(&r.raw), spec.unit);
        if spec.core_share {
            text += &format!(" ({} %)", share(100.0 * r.value.high() / FRAME_NS_48K));
        }
        let style = (FONT, 15).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        EmptyElement::at((scale.at(r.value.high()), (y0 + y1) / 2.0)) + Text::new(text, (5, 0), style)
    });
    chart.draw_series(labels)?;
    if series.len() > 1 || !goals.is_empty() {
        legend(&mut chart, spec)?;
    }
    Ok(())
}

fn lines(spec: &Spec, rows: &[&Row], categories: &[&str], series: &[&str], area: &Area) -> Result<()> {
    let scale = Scale::fit(rows.iter().map(|r| r.value.high()), spec.log, spec.from_zero, if spec.log { 1.0 } else { 1.08 });
    let n = categories.len();
    let name_of = |x: f64| categories.get(x.round().max(0.0) as usize).map_or(String::new(), |c| c.to_string());
    let mut chart = ChartBuilder::on(area)
        .caption(spec.title, (FONT, 26))
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(70)
        .build_cartesian_2d(slots(n, 0.4), scale.axis())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(spec.across)
        .y_desc(spec.axis)
        .x_label_formatter(&|x| name_of(*x))
        .y_label_formatter(&|y| scale.label(*y))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 17))
        .light_line_style(TRANSPARENT)
        .draw()?;
    for (k, name) in series.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.series == *name)
            .filter_map(|r| Some((categories.iter().position(|c| *c == r.category)? as f64, scale.at(r.value.high()))))
            .collect();
        let anno = chart.draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?;
        if series.len() > 1 {
            anno.label(*name).legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(3)));
        }
        chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
    }
    // One curve: its figures beside its points.
    if series.len() == 1 {
        let style = (FONT, 15).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
        let labels = rows.iter().filter(|r| !r.is_goal()).filter_map(|r| {
            let x = categories.iter().position(|c| *c == r.category)? as f64;
            let text = format!("{}{}", r.value.text(&r.raw), spec.unit);
            Some(EmptyElement::at((x, scale.at(r.value.high()))) + Text::new(text, (0, -8), style.clone()))
        });
        chart.draw_series(labels)?;
    }
    for r in rows.iter().filter(|r| r.is_goal()) {
        let y = scale.at(r.value.high());
        chart.draw_series(DashedLineSeries::new([(-0.4, y), (n as f64 - 0.6, y)], 8, 5, GOAL.stroke_width(2)))?;
        let name = r.series.trim_start_matches("goal").trim_start_matches(':').trim();
        let style = (FONT, 15).into_font().color(&GOAL).pos(Pos::new(HPos::Left, VPos::Bottom));
        let text = format!("{name} ({}{})", num(r.value.high()), spec.unit);
        chart.draw_series(std::iter::once(EmptyElement::at((-0.4, y)) + Text::new(text, (6, -4), style)))?;
    }
    if series.len() > 1 {
        legend(&mut chart, spec)?;
    }
    Ok(())
}

fn legend<'a>(chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<Ticked, Ticked>>, spec: &Spec) -> Result<()> {
    chart
        .configure_series_labels()
        .position(spec.legend.clone())
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(150, 150, 150))
        .margin(12)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_cover_their_values() {
        let s = Scale::fit([3.0, 2866.0].into_iter(), false, true, 1.0);
        assert!(s.lo == 0.0 && s.hi >= 2866.0 && s.ticks().len() <= 8);
        // Bars leave room for their labels; curves end on a decade.
        let bars = Scale::fit([128.0, 7191.0].into_iter(), true, true, 3.0);
        assert_eq!((bars.lo, bars.hi), (100.0, 7191.0 * 3.0));
        assert!(bars.ticks().contains(&4.0) && bars.ticks().iter().all(|t| *t <= bars.hi.log10()));
        let curves = Scale::fit([4.34, 2800.0].into_iter(), true, true, 1.0);
        assert_eq!((curves.lo, curves.hi), (1.0, 10_000.0));
    }
}
