//! The buffer-size advice of `livechain sweep`: a size is recommended only once it has proven
//! clean, and never below a size that dropped out.
//!
//! A few seconds per size cannot tell a clean size from a lucky one: one xrun in three seconds at
//! 128 frames, none at 64, says nothing sure about either. So after the quick pass every size
//! that failed although a smaller one passed is tried again for the soak time (an outlier, or a
//! real limit); the recommendation is the smallest size with nothing failing at or above it, and
//! it is confirmed by a soak of its own (moving up a size while the soak fails). The advice says
//! what it rests on: "64 frames: 0 xruns in 60 s; 128 had 1 xrun in 3 s, retested clean in 60 s".

use anyhow::Result;

/// Device errors closer together than this many buffer periods are one dropout (`bursts`): a
/// failing call is retried at every callback until the stream recovers, a few periods later.
pub const BURST_GAP_PERIODS: f64 = 4.0;

/// How many bursts the sorted event times `times` (s) make: a new one begins wherever an event
/// comes more than `gap` (s) after the one before it.
pub fn bursts(times: &[f64], gap: f64) -> usize {
    times.windows(2).filter(|w| w[1] - w[0] > gap).count() + usize::from(!times.is_empty())
}

/// One run at one buffer size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    pub seconds: f64,
    /// Dropouts, and bursts of other device errors counted with them (`bursts`).
    pub xruns: usize,
    /// The worst callback's processing time over its deadline.
    pub peak_load: f64,
}

impl Trial {
    pub fn clean(&self, margin_percent: f64) -> bool {
        self.xruns == 0 && self.peak_load * 100.0 < margin_percent
    }

    fn describe(&self) -> String {
        let s = if self.xruns == 1 { "" } else { "s" };
        format!("{} xrun{s} in {}", self.xruns, seconds(self.seconds))
    }
}

fn seconds(s: f64) -> String {
    if s >= 10.0 || s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// What the sweep recommends, and the sentence that says why.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    pub size: Option<u32>,
    pub text: String,
}

/// Decides from the quick pass (`quick`: each size tried, ascending) and further runs of
/// `soak_s` seconds (`measure(size, seconds)`), as the module says.
pub fn advise(quick: &[(u32, Trial)], margin: f64, soak_s: f64, mut measure: impl FnMut(u32, f64) -> Result<Trial>) -> Result<Advice> {
    let mut long: Vec<Option<Trial>> = vec![None; quick.len()];
    // Failures above a clean size: an outlier or a real limit; a longer run tells.
    for i in 0..quick.len() {
        if !quick[i].1.clean(margin) && quick[..i].iter().any(|q| q.1.clean(margin)) {
            long[i] = Some(measure(quick[i].0, soak_s)?);
        }
    }
    let ok = |long: &[Option<Trial>], i: usize| long[i].unwrap_or(quick[i].1).clean(margin);
    let chosen = loop {
        // The smallest size with nothing failing at or above it.
        let Some(c) = (0..quick.len()).find(|&c| (c..quick.len()).all(|j| ok(&long, j))) else { break None };
        if long[c].is_some() {
            break Some(c);
        }
        long[c] = Some(measure(quick[c].0, soak_s)?);
        if ok(&long, c) {
            break Some(c);
        }
    };
    // What the advice rests on: the soak of the one chosen, then every size that failed once.
    let mut why = Vec::new();
    for (i, (size, q)) in quick.iter().enumerate() {
        if Some(i) == chosen || q.clean(margin) && long[i].is_none_or(|t| t.clean(margin)) {
            continue;
        }
        let mut s =
            if q.clean(margin) { format!("{size} was clean in {}", seconds(q.seconds)) } else { format!("{size} had {}", q.describe()) };
        if !q.clean(margin) && q.xruns == 0 {
            s = format!("{size} peaked at {:.0} % load in {}", q.peak_load * 100.0, seconds(q.seconds));
        }
        match long[i] {
            Some(t) if t.clean(margin) => s.push_str(&format!(", retested clean in {}", seconds(t.seconds))),
            Some(t) if t.xruns > 0 => s.push_str(&format!(", and {} again", t.describe())),
            Some(t) => s.push_str(&format!(", and peaked at {:.0} % load in {} again", t.peak_load * 100.0, seconds(t.seconds))),
            None => {}
        }
        why.push(s);
    }
    let text = match chosen {
        Some(c) => {
            let t = long[c].expect("the chosen size was soaked");
            let mut text = format!("recommended: {} frames: {} (peak load {:.0} %)", quick[c].0, t.describe(), t.peak_load * 100.0);
            for w in &why {
                text.push_str("; ");
                text.push_str(w);
            }
            text
        }
        None => {
            let mut text = format!("no buffer size ran cleanly under {margin:.0} % peak load: free up CPU or raise --margin");
            if !why.is_empty() {
                text.push_str(&format!(" ({})", why.join("; ")));
            }
            text
        }
    };
    Ok(Advice { size: chosen.map(|c| quick[c].0), text })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dropout's errors, repeated every callback until it recovers, count once; errors further
    /// apart than the gap are separate dropouts; none, none.
    #[test]
    fn device_errors_count_once_per_burst() {
        let period = 256.0 / 48_000.0;
        let gap = BURST_GAP_PERIODS * period;
        // 300 errors a period apart (a pulse plugin's failing call), then 50 more a second later,
        // then one lone error.
        let mut times: Vec<f64> = (0..300).map(|i| 1.0 + i as f64 * period).collect();
        times.extend((0..50).map(|i| 3.0 + i as f64 * period));
        times.push(5.0);
        assert_eq!(bursts(&times, gap), 3);
        // Just over the gap apart: two; just under: one.
        assert_eq!(bursts(&[1.0, 1.0 + gap * 1.01], gap), 2);
        assert_eq!(bursts(&[1.0, 1.0 + gap * 0.99], gap), 1);
        assert_eq!(bursts(&[2.0], gap), 1);
        assert_eq!(bursts(&[], gap), 0);
    }

    fn t(seconds: f64, xruns: usize) -> Trial {
        Trial { seconds, xruns, peak_load: 0.2 }
    }

    /// The sweep the issue saw: 4 xruns at 32, none at 64, 1 at 128, none above. 128 is tried
    /// again; clean, it clears; then 64 must survive its own soak to be recommended.
    #[test]
    fn a_lucky_size_is_not_advice_until_it_has_soaked() {
        let quick = [(32, t(3.0, 4)), (64, t(3.0, 0)), (128, t(3.0, 1)), (256, t(3.0, 0)), (512, t(3.0, 0))];
        let mut asked = Vec::new();
        let a = advise(&quick, 70.0, 60.0, |size, s| {
            asked.push(size);
            Ok(t(s, 0))
        })
        .unwrap();
        assert_eq!(asked, [128, 64], "128 retested, then 64 soaked");
        assert_eq!(a.size, Some(64));
        assert_eq!(a.text, "recommended: 64 frames: 0 xruns in 60 s (peak load 20 %); 32 had 4 xruns in 3 s; 128 had 1 xrun in 3 s, retested clean in 60 s");
    }

    /// A failure that repeats stands: nothing below it is advised.
    #[test]
    fn a_size_that_drops_out_again_bars_every_smaller_one() {
        let quick = [(32, t(3.0, 0)), (64, t(3.0, 0)), (128, t(3.0, 1)), (256, t(3.0, 0))];
        let a = advise(&quick, 70.0, 60.0, |size, s| Ok(if size == 128 { t(s, 2) } else { t(s, 0) })).unwrap();
        assert_eq!(a.size, Some(256));
        assert!(a.text.starts_with("recommended: 256 frames: 0 xruns in 60 s"), "{}", a.text);
        assert!(a.text.contains("128 had 1 xrun in 3 s, and 2 xruns in 60 s again"), "{}", a.text);
    }

    /// A soak that fails moves the advice up a size; when none survives, it says so.
    #[test]
    fn a_failed_soak_moves_up_and_none_left_says_so() {
        let quick = [(64, t(3.0, 0)), (128, t(3.0, 0)), (256, t(3.0, 0))];
        let a = advise(&quick, 70.0, 30.0, |size, s| Ok(if size < 256 { t(s, 1) } else { t(s, 0) })).unwrap();
        assert_eq!(a.size, Some(256));
        assert!(a.text.contains("64 was clean in 3 s, and 1 xrun in 30 s again"), "{}", a.text);
        let b = advise(&quick, 70.0, 30.0, |_, s| Ok(t(s, 3))).unwrap();
        assert_eq!(b.size, None);
        assert!(b.text.starts_with("no buffer size ran cleanly"), "{}", b.text);
    }

    /// Load counts like a dropout: a size over the margin is not clean.
    #[test]
    fn load_over_the_margin_is_not_clean() {
        let hot = Trial { seconds: 3.0, xruns: 0, peak_load: 0.9 };
        let quick = [(32, hot), (64, t(3.0, 0))];
        let a = advise(&quick, 70.0, 10.0, |_, s| Ok(t(s, 0))).unwrap();
        assert_eq!(a.size, Some(64));
        assert!(a.text.contains("32 peaked at 90 % load in 3 s"), "{}", a.text);
    }
}
