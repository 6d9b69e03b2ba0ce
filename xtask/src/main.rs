//! `cargo xtask`: bundling (nice-plug-xtask), system packages, install, run and the full test.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

mod system;

const USAGE: &str = "usage: cargo xtask <command>

  bundle livechain [--release]  build and bundle the CLAP, VST3 and standalone
  deps                          check (and on Debian as root, install) the system packages
  install                       copy the bundles to ~/.clap and ~/.vst3
  run                           deps, bundle --release, install, then start the standalone
  test                          every test: formatting and clippy first, then cargo test with the
                                system tests (the CLAP host, the validator, the standalone under
                                JACK and Xvfb), then the VST3 hosts
  compare [SECONDS]             the same audio through Livechain (VST3 in pedalboard), pedalboard's
                                own chain and a numpy/scipy chain in 64-frame callbacks: times, ratios
  worst-case                    a million 32-frame blocks under automation: p50 … p99.99, max
  howl [--quick]                the feedback suppressor in a simulated closed acoustic loop: MSG
                                with it off and on, ASG, detection, distortion per room and source,
                                and music that must be left alone (espeak-ng and sox are installed)
  fuzz [SECONDS]                state loading and process() with random events, through the CLAP
                                host, for SECONDS per target (default 300), fresh seeds each run";

/// Errors end the command with what went wrong and what to do, as one message (no backtrace,
/// whatever RUST_BACKTRACE says: they are the user's to read, not a crash).
fn main() {
    if let Err(e) = run_command() {
        eprintln!("cargo xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run_command() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(cmd) = args.next() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let rest: Vec<String> = args.collect();
    let root = workspace_root()?;
    std::env::set_current_dir(&root)?;
    match cmd.as_str() {
        "bundle" | "bundle-universal" => {
            // A hand-run bundle lands in target/bundled like ours: say what kind of build it is.
            let kind = if rest.iter().any(|a| a == "--release") && !rest.iter().any(|a| a.contains("assert_process_allocs")) {
                RELEASE
            } else {
                "not a release build (bundled by hand without --release, or with test features)"
            };
            nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(cmd).chain(rest))?;
            mark(&root.join(BUNDLED), kind)
        }
        "known-packages" => nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(cmd).chain(rest)),
        "deps" => system::ensure(system::BUILD),
        "install" => install(&root),
        "run" => run(&root, &rest),
        "test" => test(&root),
        "compare" => compare(&root, &rest),
        "worst-case" => run_cmd(Command::new("cargo").args(["bench", "--bench", "worst_case"])),
        "fuzz" => fuzz(&root, &rest),
        "howl" => {
            system::ensure(system::TEST)?;
            run_cmd(Command::new("cargo").args(["run", "--release", "--example", "howl", "--"]).args(&rest))
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("unknown command '{other}'\n\n{USAGE}");
            std::process::exit(2);
        }
    }
}

fn workspace_root() -> Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(dir.parent().context("xtask has no parent directory")?.to_path_buf())
}

pub fn run_cmd(cmd: &mut Command) -> Result<()> {
    eprintln!("+ {cmd:?}");
    let status = cmd.status().with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// Where the release bundles land (nice-plug-xtask's folder), what `install` copies and
/// `compare` measures.
const BUNDLED: &str = "target/bundled";
/// Where the test bundles go: the debug build that aborts on an allocation in `process()`, never
/// mixed with the release bundles.
const TEST_BUNDLE: &str = "target/test-bundle";
/// The file in a bundle folder that says what kind of build it holds.
const MARK: &str = ".livechain-build";
const RELEASE: &str = "release";
/// The three things a bundle holds.
const ARTIFACTS: [&str; 3] = ["Livechain.clap", "Livechain.vst3", "Livechain"];

fn mark(dir: &Path, kind: &str) -> Result<()> {
    std::fs::write(dir.join(MARK), format!("{kind}\n")).with_context(|| format!("writing {}", dir.join(MARK).display()))
}

/// Moves the artifacts from one folder to another (same file system), replacing what was there.
fn move_artifacts(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for name in ARTIFACTS {
        let (src, dst) = (from.join(name), to.join(name));
        if !src.exists() {
            continue;
        }
        if dst.is_dir() {
            std::fs::remove_dir_all(&dst)?;
        } else if dst.exists() {
            std::fs::remove_file(&dst)?;
        }
        std::fs::rename(&src, &dst).with_context(|| format!("moving {} to {}", src.display(), dst.display()))?;
    }
    Ok(())
}

/// Bundles the release build into `BUNDLED`, or the test build into `TEST_BUNDLE`. nice-plug's
/// bundler always writes into `BUNDLED`: for a test build, the release bundles there are moved
/// aside first and put back after, so running the tests never replaces them.
fn bundle(root: &Path, release: bool) -> Result<()> {
    let mut args = vec!["bundle".to_string(), "livechain".to_string()];
    let bundled = root.join(BUNDLED);
    if release {
        args.push("--release".into());
        nice_plug_xtask::main_with_args("cargo xtask", args)?;
        return mark(&bundled, RELEASE);
    }
    // Test bundles abort on any allocation inside process(), in every host.
    args.extend(["--features".into(), "assert_process_allocs".into()]);
    let kept = root.join("target/bundled.kept");
    move_artifacts(&bundled, &kept)?;
    let kept_mark = std::fs::read_to_string(bundled.join(MARK)).ok();
    let built = nice_plug_xtask::main_with_args("cargo xtask", args);
    let moved = if built.is_ok() { move_artifacts(&bundled, &root.join(TEST_BUNDLE)) } else { Ok(()) };
    move_artifacts(&kept, &bundled)?;
    if let Some(m) = kept_mark {
        std::fs::write(bundled.join(MARK), m)?;
    }
    built?;
    moved?;
    mark(&root.join(TEST_BUNDLE), "test (debug, assert_process_allocs): for the test hosts only")
}

/// The release bundle folder, refusing one that holds anything else: a test build is 2.5x slower
/// and aborts its host on an allocation.
fn release_bundles(root: &Path) -> Result<PathBuf> {
    let bundled = root.join(BUNDLED);
    let kind = std::fs::read_to_string(bundled.join(MARK)).unwrap_or_default();
    if kind.trim() != RELEASE {
        let what = if kind.trim().is_empty() { "no mark saying what build it is".to_string() } else { kind.trim().to_string() };
        bail!("{} does not hold a release build ({what}): run `cargo xtask bundle livechain --release` first", bundled.display());
    }
    for name in ARTIFACTS {
        if !bundled.join(name).exists() {
            bail!("{} is missing: run `cargo xtask bundle livechain --release` first", bundled.join(name).display());
        }
    }
    Ok(bundled)
}

fn home() -> Result<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from).context("HOME is not set")
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("removing old {}", to.display()))?;
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn install(root: &Path) -> Result<()> {
    let bundled = release_bundles(root)?;
    let clap = bundled.join("Livechain.clap");
    let vst3 = bundled.join("Livechain.vst3");
    let home = home()?;
    std::fs::create_dir_all(home.join(".clap"))?;
    std::fs::copy(&clap, home.join(".clap/Livechain.clap"))?;
    copy_dir(&vst3, &home.join(".vst3/Livechain.vst3"))?;
    println!("installed {} and {}", home.join(".clap/Livechain.clap").display(), home.join(".vst3/Livechain.vst3").display());
    Ok(())
}

fn jack_running() -> bool {
    Command::new("jack_lsp")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .env("JACK_NO_START_SERVER", "1")
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn alsa_card_present() -> bool {
    std::fs::read_to_string("/proc/asound/cards")
        .map(|s| s.lines().any(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit())))
        .unwrap_or(false)
}

fn run(root: &Path, extra: &[String]) -> Result<()> {
    system::ensure(system::BUILD)?;
    bundle(root, true)?;
    install(root)?;
    let standalone = root.join(BUNDLED).join("Livechain");
    let display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty());
    let backend = if jack_running() {
        "jack"
    } else if alsa_card_present() {
        "alsa"
    } else {
        // No audio device: do the main job offline on the built-in demo, so the chain, the
        // meters and the DSP load can still be seen.
        println!("no audio device (no JACK server, no ALSA card): rendering the built-in demo");
        run_cmd(Command::new(&standalone).args(["demo", "target/livechain-demo.wav"]))?;
        if !display {
            return Ok(());
        }
        "dummy"
    };
    println!("starting the standalone with the {backend} backend");
    let mut cmd = Command::new(standalone);
    cmd.args(["--backend", backend]).args(extra);
    run_cmd(&mut cmd)
}

fn compare(root: &Path, rest: &[String]) -> Result<()> {
    system::ensure(system::BUILD)?;
    system::ensure(system::TEST)?;
    bundle(root, true)?;
    let bundled = release_bundles(root)?;
    let python = system::python_venv(root)?;
    let mut cmd = Command::new(&python);
    cmd.arg(root.join("benches/compare.py")).arg(bundled.join("Livechain.vst3")).args(rest);
    run_cmd(&mut cmd)
}

fn fuzz(root: &Path, rest: &[String]) -> Result<()> {
    let seconds = match rest.first() {
        None => 300.0,
        Some(s) => match s.parse::<f64>() {
            Ok(v) if v > 0.0 => v,
            _ => bail!("fuzz: '{s}' is not a number of seconds (for example `cargo xtask fuzz 600`)"),
        },
    };
    system::ensure(system::BUILD)?;
    bundle(root, false)?;
    // Both targets at once, one per core; a case that kills the process stays in target/fuzz/.
    run_cmd(
        Command::new("cargo")
            .args([
                "test",
                "--features",
                "livechain/assert_process_allocs",
                "--test",
                "fuzz",
                "--",
                "--include-ignored",
                "--nocapture",
                "--test-threads",
                "2",
            ])
            .env("LIVECHAIN_FUZZ_SECONDS", seconds.to_string()),
    )
}

fn test(root: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    system::ensure(system::BUILD)?;
    system::ensure(system::TEST)?;
    // The gates: one formatting, no lint, before anything is built for the tests.
    run_cmd(Command::new("cargo").args(["fmt", "--all", "--check"])).context("the code is not formatted: run `cargo fmt --all`")?;
    run_cmd(Command::new("cargo").args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--features",
        "livechain/assert_process_allocs",
        "--",
        "-D",
        "warnings",
    ]))
    .context("clippy found something: fix it (a deliberate habit is allowed in Cargo.toml's [lints.clippy], with the reason)")?;
    bundle(root, false)?;
    // Plain `cargo test` runs the tests that need nothing but the crate; the system tests (the
    // bundled plugin in a CLAP host and the validator, the standalone under JACK, ALSA and Xvfb)
    // are `#[ignore]`d there, and run here after the bundle they need.
    run_cmd(Command::new("cargo").args([
        "test",
        "--workspace",
        "--features",
        "livechain/assert_process_allocs",
        "--",
        "--include-ignored",
    ]))?;
    let python = system::python_venv(root)?;
    for host in ["tests/hosts/test_vst3.py", "tests/hosts/test_dawdreamer.py", "tests/hosts/test_vocoder.py"] {
        // The plugin's log goes to a file: pedalboard passes no buffers for the sidechain bus,
        // which the test build's wrapper reports once per block.
        run_cmd(
            Command::new(&python)
                .arg(root.join(host))
                .arg(root.join(TEST_BUNDLE).join("Livechain.vst3"))
                .env("NICE_LOG", root.join("target/test-hosts.log")),
        )?;
    }
    println!("cargo xtask test: everything passed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
