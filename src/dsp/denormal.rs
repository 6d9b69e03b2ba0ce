//! Flush-to-zero and denormals-are-zero for the audio thread.
//!
//! nice-plug's wrapper sets only flush-to-zero (and only with a feature). Denormals-are-zero is
//! what keeps a subnormal *input* from reaching the output through a plain gain and what keeps
//! decaying feedback paths fast. The guard restores the host's mode when it is dropped.

#[cfg(target_arch = "x86_64")]
mod imp {
    const FTZ: u32 = 1 << 15;
    const DAZ: u32 = 1 << 6;

    pub struct DenormalGuard {
        saved: u32,
    }

    #[inline]
    fn read() -> u32 {
        let mut csr: u32 = 0;
        // SAFETY: stmxcsr only stores the SSE control register into our local.
        unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack)) };
        csr
    }

    #[inline]
    fn write(csr: u32) {
        // SAFETY: ldmxcsr loads a control word we read from the same register with only the
        // FTZ/DAZ bits changed, both supported on every x86_64 CPU.
        unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly)) };
    }

    impl DenormalGuard {
        #[inline]
        pub fn new() -> Self {
            let saved = read();
            write(saved | FTZ | DAZ);
            Self { saved }
        }
    }

    impl Drop for DenormalGuard {
        #[inline]
        fn drop(&mut self) {
            write(self.saved);
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod imp {
    const FZ: u64 = 1 << 24;

    pub struct DenormalGuard {
        saved: u64,
    }

    impl DenormalGuard {
        #[inline]
        pub fn new() -> Self {
            let saved: u64;
            // SAFETY: reading and writing FPCR with only the flush-to-zero bit changed.
            unsafe {
                std::arch::asm!("mrs {}, fpcr", out(reg) saved);
                std::arch::asm!("msr fpcr, {}", in(reg) saved | FZ);
            }
            Self { saved }
        }
    }

    impl Drop for DenormalGuard {
        #[inline]
        fn drop(&mut self) {
            // SAFETY: restores the value read in `new`.
            unsafe { std::arch::asm!("msr fpcr, {}", in(reg) self.saved) };
        }
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod imp {
    pub struct DenormalGuard;
    impl DenormalGuard {
        #[inline]
        pub fn new() -> Self {
            Self
        }
    }
}

pub use imp::DenormalGuard;

impl Default for DenormalGuard {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnormals_vanish_inside_the_guard_and_return_after() {
        let tiny = std::hint::black_box(f32::MIN_POSITIVE / 4.0);
        assert!(tiny.is_subnormal());
        {
            let _g = DenormalGuard::new();
            let y = std::hint::black_box(tiny) * std::hint::black_box(1.0f32);
            assert_eq!(y, 0.0, "DAZ must read a subnormal input as zero");
            let z = std::hint::black_box(f32::MIN_POSITIVE) * std::hint::black_box(0.25f32);
            assert_eq!(z, 0.0, "FTZ must flush a subnormal result");
        }
        let y = std::hint::black_box(tiny) * std::hint::black_box(1.0f32);
        assert!(y.is_subnormal(), "the host's mode is restored");
    }
}
