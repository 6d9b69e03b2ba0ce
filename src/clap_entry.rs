//! Livechain's own CLAP entry point: nice-plug's CLAP wrapper (`Wrapper`, `PluginDescriptor`),
//! with a thin layer between it and the host that restores one rule of the CLAP specification.
//!
//! The rule: `clap_host_latency.changed` is [main-thread & being-activated]. nice-plug 0.4.2
//! reports a latency change from a main-thread task; when the host has deactivated the plugin
//! before that task runs, the wrapper calls `changed()` at once, outside `activate` (strict
//! validators fail on it). So the wrapper is handed a proxy of the host instead of the host: the
//! proxy forwards everything, except that a `latency.changed` outside `activate` is held back and
//! delivered from inside the next `activate` (where the host reads the latency anyway). To know
//! when `activate` runs, the host is handed a copy of nice-plug's `clap_plugin` whose `activate`,
//! `deactivate` and `destroy` go through us and every other call goes straight to nice-plug.
//!
//! Both copies keep the original's data pointer (`host_data`, `plugin_data`), so nice-plug's
//! functions and the host's own extensions, which find their object through it, work unchanged
//! whichever copy they are handed; our few functions find theirs from the struct that starts with
//! the copy. Proved by `tests/clap_host.rs` (the test host fails on a `latency.changed` outside
//! `activate`) and the validator suite (`tests/validator.rs`).

use crate::Livechain;
use clap_sys::ext::latency::{clap_host_latency, CLAP_EXT_LATENCY};
use nice_plug::wrapper::clap::{
    clap_host, clap_plugin, clap_plugin_descriptor, clap_plugin_entry, clap_plugin_factory, PluginDescriptor, Wrapper,
    CLAP_PLUGIN_FACTORY_ID, CLAP_VERSION,
};
use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// The host as nice-plug sees it. `host` must stay the first field: our functions get a pointer
/// to it and read the rest of the struct behind it.
#[repr(C)]
struct HostProxy {
    host: clap_host,
    real: *const clap_host,
    /// True while the host is inside our `activate`.
    activating: AtomicBool,
    /// A `latency.changed` arrived outside `activate`: deliver it in the next one.
    latency_pending: AtomicBool,
}

/// The plugin as the host sees it. `plugin` must stay the first field (see `HostProxy`).
#[repr(C)]
struct PluginShell {
    plugin: clap_plugin,
    /// nice-plug's own `clap_plugin` (its `Wrapper` owns it).
    inner: *const clap_plugin,
    proxy: *mut HostProxy,
}

static PROXY_LATENCY: clap_host_latency = clap_host_latency { changed: Some(proxy_latency_changed) };

/// The real host's latency extension, if it has one.
unsafe fn real_latency(proxy: &HostProxy) -> Option<&clap_host_latency> {
    let real = unsafe { &*proxy.real };
    let get = real.get_extension?;
    let ext = unsafe { get(proxy.real, CLAP_EXT_LATENCY.as_ptr()) } as *const clap_host_latency;
    unsafe { ext.as_ref() }
}

unsafe extern "C" fn proxy_get_extension(host: *const clap_host, id: *const c_char) -> *const c_void {
    let proxy = unsafe { &*(host as *const HostProxy) };
    if !id.is_null() && unsafe { CStr::from_ptr(id) } == CLAP_EXT_LATENCY {
        // Offer ours only where the host has one to forward to.
        return match unsafe { real_latency(proxy) } {
            Some(_) => &PROXY_LATENCY as *const clap_host_latency as *const c_void,
            None => std::ptr::null(),
        };
    }
    let real = unsafe { &*proxy.real };
    match real.get_extension {
        Some(get) => unsafe { get(proxy.real, id) },
        None => std::ptr::null(),
    }
}

unsafe extern "C" fn proxy_latency_changed(host: *const clap_host) {
    let proxy = unsafe { &*(host as *const HostProxy) };
    if proxy.activating.load(Ordering::SeqCst) {
        if let Some(changed) = unsafe { real_latency(proxy) }.and_then(|l| l.changed) {
            unsafe { changed(proxy.real) };
        }
    } else {
        proxy.latency_pending.store(true, Ordering::SeqCst);
    }
}

/// `request_restart`, `request_process` and `request_callback` go to the real host as they are.
macro_rules! forward_request {
    ($name:ident) => {
        unsafe extern "C" fn $name(host: *const clap_host) {
            let proxy = unsafe { &*(host as *const HostProxy) };
            if let Some(f) = unsafe { (*proxy.real).$name } {
                unsafe { f(proxy.real) };
            }
        }
    };
}
forward_request!(request_restart);
forward_request!(request_process);
forward_request!(request_callback);

unsafe extern "C" fn shell_activate(plugin: *const clap_plugin, sample_rate: f64, min_frames: u32, max_frames: u32) -> bool {
    let shell = unsafe { &*(plugin as *const PluginShell) };
    let proxy = unsafe { &*shell.proxy };
    proxy.activating.store(true, Ordering::SeqCst);
    let ok = match unsafe { (*shell.inner).activate } {
        Some(f) => unsafe { f(shell.inner, sample_rate, min_frames, max_frames) },
        None => false,
    };
    if proxy.latency_pending.swap(false, Ordering::SeqCst) {
        // Still inside `activate`: the one place the host may be told.
        if let Some(changed) = unsafe { real_latency(proxy) }.and_then(|l| l.changed) {
            unsafe { changed(proxy.real) };
        }
    }
    proxy.activating.store(false, Ordering::SeqCst);
    ok
}

unsafe extern "C" fn shell_destroy(plugin: *const clap_plugin) {
    let shell = unsafe { Box::from_raw(plugin as *mut PluginShell) };
    if let Some(f) = unsafe { (*shell.inner).destroy } {
        // nice-plug drops its wrapper (and with it the plugin) here; nothing holds the proxy after.
        unsafe { f(shell.inner) };
    }
    drop(unsafe { Box::from_raw(shell.proxy) });
}

/// Creates nice-plug's wrapper around a proxy of `host` and hands the host our copy of its vtable.
unsafe fn create(host: *const clap_host) -> *const clap_plugin {
    let real = unsafe { &*host };
    let proxy = Box::into_raw(Box::new(HostProxy {
        host: clap_host {
            get_extension: Some(proxy_get_extension),
            request_restart: Some(request_restart),
            request_process: Some(request_process),
            request_callback: Some(request_callback),
            ..*real
        },
        real: host,
        activating: AtomicBool::new(false),
        latency_pending: AtomicBool::new(false),
    }));
    // SAFETY: the proxy outlives the wrapper: `shell_destroy` frees it after nice-plug's destroy.
    // The `Arc` is taken back and dropped by nice-plug's own `destroy` (as its export macro does).
    let inner: *const clap_plugin = unsafe { (*Arc::into_raw(Wrapper::<Livechain>::new(proxy as *const clap_host))).clap_plugin.as_ptr() };
    let shell = Box::new(PluginShell {
        plugin: clap_plugin { activate: Some(shell_activate), destroy: Some(shell_destroy), ..unsafe { *inner } },
        inner,
        proxy,
    });
    Box::into_raw(shell) as *const clap_plugin
}

fn descriptor() -> &'static PluginDescriptor {
    static DESCRIPTOR: OnceLock<PluginDescriptor> = OnceLock::new();
    DESCRIPTOR.get_or_init(PluginDescriptor::for_plugin::<Livechain>)
}

unsafe extern "C" fn get_plugin_count(_: *const clap_plugin_factory) -> u32 {
    1
}

unsafe extern "C" fn get_plugin_descriptor(_: *const clap_plugin_factory, index: u32) -> *const clap_plugin_descriptor {
    if index == 0 {
        descriptor().clap_plugin_descriptor()
    } else {
        std::ptr::null()
    }
}

unsafe extern "C" fn create_plugin(_: *const clap_plugin_factory, host: *const clap_host, plugin_id: *const c_char) -> *const clap_plugin {
    if host.is_null() || plugin_id.is_null() || unsafe { CStr::from_ptr(plugin_id) } != descriptor().clap_id() {
        return std::ptr::null();
    }
    unsafe { create(host) }
}

static FACTORY: clap_plugin_factory = clap_plugin_factory {
    get_plugin_count: Some(get_plugin_count),
    get_plugin_descriptor: Some(get_plugin_descriptor),
    create_plugin: Some(create_plugin),
};

unsafe extern "C" fn init(_plugin_path: *const c_char) -> bool {
    nice_plug::wrapper::setup_logger::<Livechain>();
    true
}

unsafe extern "C" fn deinit() {}

unsafe extern "C" fn get_factory(factory_id: *const c_char) -> *const c_void {
    if !factory_id.is_null() && unsafe { CStr::from_ptr(factory_id) } == CLAP_PLUGIN_FACTORY_ID {
        &FACTORY as *const clap_plugin_factory as *const c_void
    } else {
        std::ptr::null()
    }
}

/// The CLAP plugin's entry point.
#[unsafe(no_mangle)]
#[used]
pub static clap_entry: clap_plugin_entry =
    clap_plugin_entry { clap_version: CLAP_VERSION, init: Some(init), deinit: Some(deinit), get_factory: Some(get_factory) };
