//! The editor's own memory of settings: undo/redo of its edits and the A/B comparison. Both
//! work on snapshots of every parameter's normalized value, so a step back restores the whole
//! chain exactly, whatever moved; every value they restore goes to the host as a gesture.

use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::*;

/// What the editor's changes go through: the host's `GuiContext` in a plugin, or a direct write
/// in tests.
pub trait Sink {
    fn begin(&self, p: ParamPtr);
    fn set(&self, p: ParamPtr, normalized: f32);
    fn end(&self, p: ParamPtr);

    /// One complete change: begin, set, end.
    fn gesture(&self, p: ParamPtr, normalized: f32) {
        self.begin(p);
        self.set(p, normalized);
        self.end(p);
    }
}

impl Sink for GuiContext {
    fn begin(&self, p: ParamPtr) {
        // SAFETY: `p` comes from the plugin's own parameter map, which lives as long as the editor.
        unsafe { self.raw_begin_set_parameter(p) }
    }
    fn set(&self, p: ParamPtr, normalized: f32) {
        // SAFETY: as above.
        unsafe { self.raw_set_parameter_normalized(p, normalized) }
    }
    fn end(&self, p: ParamPtr) {
        // SAFETY: as above.
        unsafe { self.raw_end_set_parameter(p) }
    }
}

/// Every parameter's normalized value, in the order of `Edits::params`.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot(Vec<f32>);

/// How many editor edits can be undone.
const UNDO_DEPTH: usize = 200;

/// One step of history: the settings and the A/B slots as they were.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    now: Snapshot,
    active: Slot,
    other: Option<Snapshot>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    A,
    B,
}

pub struct Edits {
    /// The parameters a snapshot holds: all but the host's bypass (a host control, not a sound
    /// setting) and the feedback suppressor's momentary "learn"/"clear" buttons.
    params: Vec<(String, ParamPtr)>,
    /// Every parameter, for names.
    all: Vec<(String, ParamPtr)>,
    undo: Vec<Entry>,
    redo: Vec<Entry>,
    /// The other slot's settings (the active one is what the parameters hold now).
    other: Option<Snapshot>,
    pub active: Slot,
    /// The parameter whose value is being typed, and the text so far.
    pub typing: Option<(ParamPtr, String)>,
    /// The parameters a gesture is open on (a node drags two or three), so begin/end pair up.
    open: Vec<ParamPtr>,
}

// SAFETY: the pointers address the plugin's parameters, which outlive the editor and are read
// and written through atomics.
unsafe impl Send for Edits {}

impl Edits {
    pub fn new(map: Vec<(String, ParamPtr, String)>) -> Self {
        let all: Vec<(String, ParamPtr)> = map.into_iter().map(|(id, p, _)| (id, p)).collect();
        let params = all.iter().filter(|(id, _)| !matches!(id.as_str(), "bypass" | "fb_learn" | "fb_clear")).cloned().collect();
        Self { params, all, undo: Vec::new(), redo: Vec::new(), other: None, active: Slot::A, open: Vec::new(), typing: None }
    }

    /// The parameter's ID, as saved in projects.
    pub fn id_of(&self, p: ParamPtr) -> &str {
        self.all.iter().find(|(_, q)| *q == p).map_or("?", |(id, _)| id.as_str())
    }

    /// The parameter with this ID.
    pub fn ptr(&self, id: &str) -> Option<ParamPtr> {
        self.all.iter().find(|(i, _)| i == id).map(|(_, p)| *p)
    }

    pub fn capture(&self) -> Snapshot {
        // SAFETY: see `Sink for GuiContext`.
        Snapshot(self.params.iter().map(|(_, p)| unsafe { p.unmodulated_normalized_value() }).collect())
    }

    /// Sets every parameter that differs from `s`, each as one complete gesture.
    fn apply(&self, s: &Snapshot, sink: &dyn Sink) {
        for ((_, p), &v) in self.params.iter().zip(&s.0) {
            // SAFETY: see `Sink for GuiContext`.
            if (unsafe { p.unmodulated_normalized_value() } - v).abs() > 1e-7 {
                sink.gesture(*p, v);
            }
        }
    }

    fn entry(&self) -> Entry {
        Entry { now: self.capture(), active: self.active, other: self.other.clone() }
    }

    fn restore(&mut self, e: Entry, sink: &dyn Sink) {
        self.apply(&e.now, sink);
        self.active = e.active;
        self.other = e.other;
    }

    /// Remembers the settings before an edit, so the edit can be undone.
    pub fn checkpoint(&mut self) {
        let now = self.entry();
        if self.undo.last() != Some(&now) {
            self.undo.push(now);
            if self.undo.len() > UNDO_DEPTH {
                self.undo.remove(0);
            }
        }
        self.redo.clear();
    }

    /// Starts a gesture on `p` (closing any left open), after a checkpoint.
    pub fn begin(&mut self, p: ParamPtr, sink: &dyn Sink) {
        self.begin_all(&[p], sink);
    }

    /// Starts one gesture on several parameters that move together (an EQ node's frequency
    /// and gain): one undo step.
    pub fn begin_all(&mut self, ps: &[ParamPtr], sink: &dyn Sink) {
        self.end(sink);
        self.checkpoint();
        for &p in ps {
            sink.begin(p);
            self.open.push(p);
        }
    }

    pub fn set(&mut self, p: ParamPtr, normalized: f32, sink: &dyn Sink) {
        if !self.open.contains(&p) {
            self.begin(p, sink);
        }
        sink.set(p, normalized.clamp(0.0, 1.0));
    }

    pub fn end(&mut self, sink: &dyn Sink) {
        for q in self.open.drain(..) {
            sink.end(q);
        }
    }

    /// One complete edit: checkpoint, begin, set, end.
    pub fn edit(&mut self, p: ParamPtr, normalized: f32, sink: &dyn Sink) {
        self.begin(p, sink);
        self.set(p, normalized, sink);
        self.end(sink);
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo(&mut self, sink: &dyn Sink) {
        self.end(sink);
        if let Some(e) = self.undo.pop() {
            self.redo.push(self.entry());
            self.restore(e, sink);
        }
    }

    pub fn redo(&mut self, sink: &dyn Sink) {
        self.end(sink);
        if let Some(e) = self.redo.pop() {
            self.undo.push(self.entry());
            self.restore(e, sink);
        }
    }

    /// Makes `slot` the active one: the current settings go to the other slot and the slot's own
    /// come back (a slot never used starts as a copy of the current settings).
    pub fn switch_to(&mut self, slot: Slot, sink: &dyn Sink) {
        if slot == self.active {
            return;
        }
        self.end(sink);
        self.checkpoint();
        let now = self.capture();
        let target = self.other.replace(now.clone()).unwrap_or(now);
        self.apply(&target, sink);
        self.active = slot;
    }

    /// Copies the active slot's settings to the other slot.
    pub fn copy_to_other(&mut self) {
        self.other = Some(self.capture());
    }

    /// Restores one parameter's default, as one gesture.
    pub fn reset(&mut self, p: ParamPtr, sink: &dyn Sink) {
        // SAFETY: see `Sink for GuiContext`.
        let d = unsafe { p.default_normalized_value() };
        self.edit(p, d, sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::LivechainParams;
    use std::cell::RefCell;

    /// Writes straight into the parameters and records the gestures, as a host would see them.
    #[derive(Default)]
    struct Direct(RefCell<Vec<String>>);
    impl Sink for Direct {
        fn begin(&self, _: ParamPtr) {
            self.0.borrow_mut().push("begin".into());
        }
        fn set(&self, p: ParamPtr, v: f32) {
            unsafe { p._internal_set_normalized_value(v) };
            self.0.borrow_mut().push("set".into());
        }
        fn end(&self, _: ParamPtr) {
            self.0.borrow_mut().push("end".into());
        }
    }

    /// Every parameter's value and the state's persisted fields: the whole saved state.
    fn full_state(p: &LivechainParams) -> (Vec<(String, f32)>, String) {
        let values = p.param_map().into_iter().map(|(id, ptr, _)| (id, unsafe { ptr.unmodulated_normalized_value() })).collect();
        let mut fields: Vec<_> = p.serialize_fields().into_iter().collect();
        fields.sort();
        (values, format!("{fields:?}"))
    }

    fn ptr(p: &LivechainParams, id: &str) -> ParamPtr {
        p.param_map().into_iter().find(|(i, _, _)| i == id).unwrap().1
    }

    #[test]
    fn undo_and_redo_round_trip_the_full_state() {
        let p = LivechainParams::default();
        let sink = Direct::default();
        let mut e = Edits::new(p.param_map());
        let start = full_state(&p);
        e.edit(ptr(&p, "eq_on"), 1.0, &sink);
        e.edit(ptr(&p, "eq2_freq"), 0.7, &sink);
        e.begin(ptr(&p, "comp_thresh"), &sink);
        for v in [0.3, 0.25, 0.2] {
            e.set(ptr(&p, "comp_thresh"), v, &sink);
        }
        e.end(&sink);
        let edited = full_state(&p);
        assert_ne!(start, edited);
        assert_eq!(sink.0.borrow().iter().filter(|g| *g == "begin").count(), sink.0.borrow().iter().filter(|g| *g == "end").count());
        // Three edits: the drag of five values is one.
        for _ in 0..3 {
            assert!(e.can_undo());
            e.undo(&sink);
        }
        assert!(!e.can_undo());
        assert_eq!(full_state(&p), start);
        for _ in 0..3 {
            e.redo(&sink);
        }
        assert_eq!(full_state(&p), edited);
        // A new edit after an undo drops the redo history.
        e.undo(&sink);
        e.edit(ptr(&p, "rev_on"), 1.0, &sink);
        assert!(!e.can_redo());
    }

    #[test]
    fn a_and_b_hold_two_complete_settings() {
        let p = LivechainParams::default();
        let sink = Direct::default();
        let mut e = Edits::new(p.param_map());
        e.edit(ptr(&p, "dly_on"), 1.0, &sink);
        e.edit(ptr(&p, "dly_feedback"), 0.8, &sink);
        let a = full_state(&p);
        // B starts as a copy of A, then changes on its own.
        e.switch_to(Slot::B, &sink);
        assert_eq!(full_state(&p), a);
        e.edit(ptr(&p, "rev_on"), 1.0, &sink);
        e.edit(ptr(&p, "in_gain"), 0.9, &sink);
        let b = full_state(&p);
        assert_ne!(a, b);
        e.switch_to(Slot::A, &sink);
        assert_eq!(full_state(&p), a);
        // The switch itself is undoable, slot and all.
        e.undo(&sink);
        assert_eq!((full_state(&p), e.active), (b.clone(), Slot::B));
        e.redo(&sink);
        assert_eq!((full_state(&p), e.active), (a.clone(), Slot::A));
        e.switch_to(Slot::B, &sink);
        assert_eq!(full_state(&p), b);
        // Copy B over A: both slots now sound the same.
        e.copy_to_other();
        e.switch_to(Slot::A, &sink);
        assert_eq!(full_state(&p), b);
    }

    #[test]
    fn reset_restores_the_default_and_the_bypass_is_not_a_setting() {
        let p = LivechainParams::default();
        let sink = Direct::default();
        let mut e = Edits::new(p.param_map());
        e.edit(ptr(&p, "comp_ratio"), 0.9, &sink);
        e.reset(ptr(&p, "comp_ratio"), &sink);
        assert!((p.comp.ratio.unmodulated_plain_value() - p.comp.ratio.default_plain_value()).abs() < 1e-5);
        assert!(e.params.iter().all(|(id, _)| id != "bypass"));
    }
}
