//! Property-based fuzzing through the real CLAP host (clack-host on the bundled `.clap`):
//!
//! - **state loading**: arbitrary bytes, and saved states mutated byte-wise (flips, cuts,
//!   insertions, digits replaced) and structurally (parameter values of the wrong type or out
//!   of range, unknown parameters, odd schema fields). Whatever loads, every parameter stays in
//!   its range and the instance processes finite audio; whatever is refused leaves the defaults.
//! - **process()**: arbitrary parameter event sequences (any parameter, any value, any sample
//!   position, several on one sample), arbitrary block sizes and hostile input (noise, impulses,
//!   NaN, ±Inf, ±1e30, subnormals, silence). The output is finite and never subnormal; with the
//!   safety ceiling on and the bypass off, it never passes the ceiling.
//!
//! Under `cargo test` each target runs a fixed, seeded set of cases. `cargo xtask fuzz` runs
//! them for a set time with fresh seeds (`LIVECHAIN_FUZZ_SECONDS`, `LIVECHAIN_FUZZ_SEED`), and
//! writes each case as JSON to `target/fuzz/<target>.json` before running it, so a case that
//! takes the process down (an abort from `assert_process_allocs`, say) is kept;
//! `LIVECHAIN_FUZZ_REPLAY=target/fuzz/<target>.json` runs that one case again. Proptest shrinks
//! every failure that panics to a minimal case.

mod common;
use common::clap::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::time::{Duration, Instant};

type Table = Vec<(String, ClapId, f64, f64, f64)>;

/// Runs `test` on cases from `strategy`: a fixed set under `cargo test`, or rounds of fresh
/// seeds until the time in `LIVECHAIN_FUZZ_SECONDS` is spent.
fn fuzz<S: Strategy>(name: &str, cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug + Serialize + DeserializeOwned,
{
    let case_file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/fuzz/{name}.json"));
    if let Ok(replay) = std::env::var("LIVECHAIN_FUZZ_REPLAY") {
        if std::path::Path::new(&replay).file_stem() == case_file.file_stem() {
            let case: S::Value = serde_json::from_str(&std::fs::read_to_string(&replay).unwrap()).expect("a saved case");
            println!("replaying {replay}: {case:?}");
            test(case).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        return;
    }
    let budget = std::env::var("LIVECHAIN_FUZZ_SECONDS").ok().and_then(|s| s.parse::<f64>().ok()).map(Duration::from_secs_f64);
    let base: u64 = std::env::var("LIVECHAIN_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(if budget.is_some() {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    } else {
        0x11fe_c4a1
    });
    if budget.is_some() {
        std::fs::create_dir_all(case_file.parent().unwrap()).unwrap();
    }
    let started = Instant::now();
    let (mut total, mut round) = (0u64, 0u64);
    loop {
        let seed = base.wrapping_add(round.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let config = Config { cases, failure_persistence: None, ..Config::default() };
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
        let result = runner.run(&strategy, |case| {
            if budget.is_some() {
                std::fs::write(&case_file, serde_json::to_string(&case).unwrap()).unwrap();
            }
            test(case)
        });
        if let Err(e) = result {
            panic!("{name} (seed {seed}): {e}");
        }
        total += cases as u64;
        round += 1;
        if budget.is_none_or(|b| started.elapsed() >= b) {
            break;
        }
    }
    println!("fuzz {name}: {total} cases from seed {base} in {:.1} s, no failure", started.elapsed().as_secs_f64());
}

fn setup() -> (&'static PluginEntry, Table, Vec<f64>) {
    let entry = load_entry();
    let mut inst = new_instance(entry);
    let table = param_table(&mut inst);
    let defaults = values(&mut inst, &table);
    (entry, table, defaults)
}

fn processes_cleanly(inst: &mut PluginInstance<TestHost>) -> Result<(), TestCaseError> {
    let out = process(inst, 48_000.0, 256, &stereo_noise(4_096, 0.3, 2), &[]);
    prop_assert!(out.iter().flatten().all(|x| x.is_finite() && !x.is_subnormal()), "output not finite after loading");
    Ok(())
}

/// A byte-level change to a state's JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize, usize),
    Insert(usize, Vec<u8>),
    Digit(usize, u8),
}

/// A structural change: a parameter (by index, or an unknown name) set to some JSON value.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Edit {
    Param(usize, serde_json::Value),
    Unknown(String, serde_json::Value),
    Field(String, serde_json::Value),
    Version(String),
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    prop_oneof![
        any::<f32>().prop_filter("JSON has no NaN or Inf", |x| x.is_finite()).prop_map(|x| json!({ "f32": x })),
        any::<i32>().prop_map(|x| json!({ "i32": x })),
        any::<bool>().prop_map(|x| json!({ "bool": x })),
        ".{0,12}".prop_map(|s| json!({ "string": s })),
        Just(serde_json::Value::Null),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(|x| json!(x)),
        ".{0,8}".prop_map(|s| json!(s)),
        Just(json!([1, 2, 3])),
        Just(json!({})),
    ]
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum StateCase {
    Bytes(Vec<u8>),
    Mutated { values: Vec<f64>, mutations: Vec<Mutation> },
    Edited { values: Vec<f64>, edits: Vec<Edit> },
}

fn state_case(params: usize) -> impl Strategy<Value = StateCase> {
    let values = prop::collection::vec(0.0f64..=1.0, params);
    let mutation = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (any::<usize>(), 1usize..64).prop_map(|(p, n)| Mutation::Cut(p, n)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Digit(p, b)),
    ];
    let edit = prop_oneof![
        (0..params, json_value()).prop_map(|(i, v)| Edit::Param(i, v)),
        ("[a-z_]{1,12}", json_value()).prop_map(|(k, v)| Edit::Unknown(k, v)),
        (prop_oneof![Just("schema".to_string()), Just("editor".to_string()), "[a-z]{1,8}"], json_value())
            .prop_map(|(k, v)| Edit::Field(k, v)),
        ".{0,10}".prop_map(Edit::Version),
    ];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..4096).prop_map(StateCase::Bytes),
        (values.clone(), prop::collection::vec(mutation, 1..6)).prop_map(|(values, mutations)| StateCase::Mutated { values, mutations }),
        (values, prop::collection::vec(edit, 1..6)).prop_map(|(values, edits)| StateCase::Edited { values, edits }),
    ]
}

/// A saved state with the parameters at `values` (0..1 of each range), as JSON.
fn saved_json(entry: &PluginEntry, table: &Table, values: &[f64]) -> Vec<u8> {
    let mut inst = new_instance(entry);
    let events: Vec<(usize, ClapId, f64)> =
        table.iter().zip(values).filter(|(p, _)| p.0 != "Bypass").map(|(p, u)| (0, p.1, p.2 + (p.3 - p.2) * u)).collect();
    process(&mut inst, 48_000.0, 64, &stereo_noise(64, 0.0, 1), &events);
    save(&mut inst)[8..].to_vec()
}

#[test]
#[ignore = "system: fuzzes the bundled CLAP (cargo xtask test)"]
fn fuzz_state_loading() {
    let (entry, table, defaults) = setup();
    let (accepted, refused) = (std::sync::atomic::AtomicUsize::new(0), std::sync::atomic::AtomicUsize::new(0));
    fuzz("state", 48, state_case(table.len()), |case| {
        let bytes = match &case {
            StateCase::Bytes(b) => b.clone(),
            StateCase::Mutated { values, mutations } => {
                let mut json = saved_json(entry, &table, values);
                for m in mutations {
                    let len = json.len().max(1);
                    match m {
                        Mutation::Flip(p, b) => json[p % len] ^= b | 1,
                        Mutation::Cut(p, n) => {
                            let at = p % len;
                            json.drain(at..(at + n).min(json.len()));
                        }
                        Mutation::Insert(p, b) => {
                            let at = p % len;
                            json.splice(at..at, b.iter().copied());
                        }
                        Mutation::Digit(p, b) => {
                            if let Some(i) = (0..len).map(|k| (p + k) % len).find(|&i| json[i].is_ascii_digit()) {
                                json[i] = b"0123456789-.eE+"[*b as usize % 15];
                            }
                        }
                    }
                }
                framed(&json)
            }
            StateCase::Edited { values, edits } => {
                let json = saved_json(entry, &table, values);
                let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
                let ids: Vec<String> = v["params"].as_object().unwrap().keys().cloned().collect();
                for e in edits {
                    match e {
                        Edit::Param(i, val) => v["params"][&ids[i % ids.len()]] = val.clone(),
                        Edit::Unknown(k, val) => v["params"][k] = val.clone(),
                        Edit::Field(k, val) => v["fields"][k] = val.clone(),
                        Edit::Version(s) => v["version"] = serde_json::Value::String(s.clone()),
                    }
                }
                framed(&serde_json::to_vec(&v).unwrap())
            }
        };
        let mut inst = new_instance(entry);
        let loaded = load(&mut inst, &bytes);
        let now = values(&mut inst, &table);
        for ((name, _, lo, hi, _), x) in table.iter().zip(&now) {
            prop_assert!(x.is_finite() && *x >= lo - 1e-9 && *x <= hi + 1e-9, "{name} = {x}, outside {lo}..{hi}");
        }
        if loaded {
            accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        } else {
            refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            prop_assert_eq!(&now, &defaults, "a refused state changed parameters");
        }
        processes_cleanly(&mut inst)
    });
    println!("states accepted {}, refused {}", accepted.into_inner(), refused.into_inner());
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Input {
    Noise,
    Impulses,
    Silence,
    Loud,
    Hostile,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProcessCase {
    events: Vec<(usize, usize, f64)>,
    blocks: Vec<usize>,
    input: Input,
    ceiling: bool,
    mono: bool,
}

fn process_case(params: usize) -> impl Strategy<Value = ProcessCase> {
    (
        prop::collection::vec((0usize..6_000, 0..params, prop_oneof![Just(0.0), Just(1.0), 0.0f64..=1.0]), 0..200),
        prop::collection::vec(1usize..=700, 1..20),
        prop_oneof![Just(Input::Noise), Just(Input::Impulses), Just(Input::Silence), Just(Input::Loud), Just(Input::Hostile)],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(events, blocks, input, ceiling, mono)| ProcessCase { events, blocks, input, ceiling, mono })
}

fn input_signal(kind: Input, channels: usize, frames: usize) -> Vec<Vec<f32>> {
    let mut x: Vec<Vec<f32>> = (0..channels).map(|c| common::noise(frames, 0.3, 5 + c as u32)).collect();
    for c in x.iter_mut() {
        match kind {
            Input::Noise => {}
            Input::Silence => c.iter_mut().for_each(|v| *v = 0.0),
            Input::Impulses => c.iter_mut().enumerate().for_each(|(i, v)| *v = if i % 1_500 == 7 { 1.0 } else { 0.0 }),
            Input::Loud => c.iter_mut().for_each(|v| *v *= 30.0),
            Input::Hostile => {
                let bad = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30, 1e-40, -1e-39];
                for (k, i) in (0..frames).step_by(97).enumerate() {
                    c[i] = bad[k % bad.len()];
                }
            }
        }
    }
    x
}

#[test]
#[ignore = "system: fuzzes the bundled CLAP (cargo xtask test)"]
fn fuzz_process_with_events() {
    let (entry, table, _) = setup();
    let frames = 6_000;
    let ceiling = 10f32.powf(-0.3 / 20.0);
    let fixed = ["Bypass", "Safety Ceiling", "Ceiling"];
    fuzz("process", 32, process_case(table.len()), |case| {
        let mut events: Vec<(usize, ClapId, f64)> = case
            .events
            .iter()
            .filter(|(_, p, _)| !(case.ceiling && fixed.contains(&table[*p].0.as_str())))
            .map(|&(t, p, u)| (t, table[p].1, table[p].2 + (table[p].3 - table[p].2) * u))
            .collect();
        if case.ceiling {
            events.insert(0, (0, param_id(&table, "Safety Ceiling"), 1.0));
        }
        let input = input_signal(case.input, if case.mono { 1 } else { 2 }, frames);
        let mut inst = new_instance(entry);
        let spec = Spec { sample_rate: 48_000.0, blocks: &case.blocks, in_place: case.mono, events: &events, side: None, notes: &[] };
        let out = run(&mut inst, &spec, &input);
        for (ch, c) in out.iter().enumerate() {
            for (i, &x) in c.iter().enumerate() {
                prop_assert!(x.is_finite() && !x.is_subnormal(), "channel {ch} sample {i}: {x}");
                if case.ceiling {
                    prop_assert!(x.abs() <= ceiling + 1e-6, "channel {ch} sample {i}: {x} over the ceiling");
                }
            }
        }
        Ok(())
    });
}
