//! The sound is pinned: the chain's output for a fixed seeded input, with every stage on, hashes
//! to the number the benches print. An optimisation that changes a single bit of the output fails
//! here; if the change is meant (a DSP fix), update the number and say why in the commit.

#[test]
fn output_of_the_reference_render_is_unchanged() {
    let hash = livechain::host::reference_output_hash();
    assert_eq!(hash, EXPECTED, "output hash {hash:#018x}; the reference is {EXPECTED:#018x}");
}

// (0xf0fb_13f9_0e45_1b15 until the AGC moved to a 16-sample control rate, then 0x4539_c059_aeea_02b3
// until the reverb's LFOs did, then 0x9dfe_29a0_c138_88b8 until the AGC's detector filter moved
// to f32 with its two stages pipelined, then 0x1e3b_15db_5e48_7a56 until the gate, the EQ and the
// de-esser joined the chain and the all-on reference, then 0xc8a2_bd1a_c625_4838 until the EQ's
// sections became one linear map per sample and the de-esser's knee branch-free, then 0x79ff_8cd1_507b_1ddf
// until the EQ's half-bands went from 8 to 6 sections, then 0xa0f3_a822_22bb_3c2d until the
// vocoder joined the chain and the all-on reference (its first, scalar bank: 0x29f7_ac65_3def_e018),
// then 0x62b9_ebb0_17c1_6249 until the vocoder's coefficients were worked out in f64, so that the
// Windows build gives the same bits as the Linux one: tests/windows.rs.)
const EXPECTED: u64 = 0x4d2d_9cf0_e2e1_4406;
