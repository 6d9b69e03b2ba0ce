//! Many instances created, activated, run and destroyed in a loop through a real CLAP host: no
//! instance or bridge outlives its host handle (the plugin's own live-object counter, read from
//! the loaded library, returns to zero every time) and the process's resident memory stops
//! growing. Alone in its binary so no other test moves the memory figures. Needs
//! the bundled `Livechain.clap` (`cargo xtask test`).

mod common;
use common::clap::*;

fn resident_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: f64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096.0 / 1e6
}

#[test]
#[ignore = "system: loads the bundled CLAP (cargo xtask test)"]
fn instances_created_and_destroyed_in_a_loop_leave_nothing_behind() {
    let entry = load_entry();
    // SAFETY: the same library clack-host loaded; dlopen hands back the same handle.
    let lib = unsafe { libloading::Library::new(bundle_path()) }.expect("the .clap loads");
    // SAFETY: the symbol is `extern "C" fn() -> usize` in src/lib.rs.
    let live: libloading::Symbol<unsafe extern "C" fn() -> usize> =
        unsafe { lib.get(b"livechain_live_objects") }.expect("the plugin exports its live-object count");
    let count = || unsafe { live() };
    assert_eq!(count(), 0, "objects alive before any instance");

    let input = stereo_noise(4096, 0.3, 5);
    let mut figures = Vec::new();
    for i in 0..300 {
        let mut inst = new_instance(entry);
        assert_eq!(count(), 2, "one plugin and its bridge per instance");
        let table = param_table(&mut inst);
        // Every stage on, at alternating rates, so every buffer is allocated and resized.
        let events: Vec<(usize, ClapId, f64)> =
            ["High-Pass", "Low-Pass", "AGC", "Compressor", "Delay", "Reverb"].iter().map(|n| (0, param_id(&table, n), 1.0)).collect();
        let rate = [44_100.0, 48_000.0, 96_000.0][i % 3];
        process(&mut inst, rate, 512, &input, &events);
        drop(inst);
        assert_eq!(count(), 0, "instance {i}: a plugin or bridge outlived its host handle");
        if i % 50 == 49 {
            figures.push(resident_mb());
        }
    }
    println!("resident memory after every 50 instances: {:?} MB", figures.iter().map(|m| format!("{m:.1}")).collect::<Vec<_>>());
    // The first 50 warm the allocator up; after that, 250 leaked instances with their delay and
    // reverb buffers would add hundreds of MB.
    let growth = figures.last().unwrap() - figures[0];
    assert!(growth < 16.0, "resident memory grew {growth:.1} MB over 250 instances");
}
