//! Livechain's own VST3 entry point: nice-plug's VST3 wrapper (`nice_plug::wrapper::vst3::Wrapper`)
//! behind a thin class of ours that restores one rule of the VST3 edit controller.
//!
//! The rule: `IEditController::setParamNormalized(id, v)` followed by `getParamNormalized(id)`
//! returns `v`, and a state saved after it contains `v`. nice-plug 0.4.2's wrapper, while the
//! processor is processing (`setProcessing(true)`), returns from `setParamNormalized` without
//! keeping the value, because the host also sends it to `process()` in the parameter queue and
//! the wrapper applies it there (sample-accurately). Until that block runs, the controller
//! answers with the old value, and a state saved in between loses the change (Steinberg's
//! validator: "The bypass parameter was not correctly set in the controller").
//!
//! What this layer does: while processing, a value set on the controller is kept here, on the
//! controller's side only, with the number of blocks processed so far. `getParamNormalized`
//! answers with it until the next block has run (the host sends the change in that block's
//! queue, and the wrapper applies it there): then the parameter is the truth again. The block
//! count is one atomic add per `process()`, nothing else on the audio thread. `IComponent::getState`
//! writes nice-plug's state with the values still held here put in. The processor is untouched:
//! it still takes the value from the process queue at its sample. Everything else is forwarded
//! to nice-plug's wrapper as it is. `tests/vst3_controller.rs` checks the rule through the bundled
//! plugin, and that every parameter's VST3 ID is the one this layer computes.

#![allow(non_snake_case)]

use crate::params::LivechainParams;
use crate::Livechain;
use nice_plug::params::internals::ParamPtr;
use nice_plug::params::{Param, Params};
use nice_plug::plugin::{ParamValue as StateValue, PluginState};
use nice_plug::wrapper::vst3::vst3::Steinberg::Vst::ChannelContext::{IInfoListener, IInfoListenerTrait};
use nice_plug::wrapper::vst3::vst3::Steinberg::Vst::*;
use nice_plug::wrapper::vst3::vst3::Steinberg::*;
use nice_plug::wrapper::vst3::vst3::{Class, ComRef, ComWrapper};
use nice_plug::wrapper::vst3::{PluginInfo, Wrapper};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// A parameter's VST3 ID: the hash nice-plug gives its string ID (31-multiplier string hash,
/// the top bit cleared: VST3 reserves it for the host's own parameters).
pub fn vst3_param_id(id: &str) -> u32 {
    id.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)) & !(1 << 31)
}

/// A value set on the controller while processing, and the blocks processed when it was set.
#[derive(Debug, Clone, Copy)]
struct Held {
    value: f64,
    block: u64,
}

/// nice-plug's wrapper and what this layer keeps beside it.
pub struct Vst3Livechain {
    inner: Wrapper<Livechain>,
    processing: AtomicBool,
    /// Blocks processed so far (one atomic add per `process()`).
    blocks: AtomicU64,
    held: Mutex<HashMap<u32, Held>>,
    /// A parameter set of our own (never processed), for turning a held normalized value into
    /// the plain value the state stores, typed as nice-plug types it; and the string ID of
    /// each VST3 ID.
    _scratch: Box<LivechainParams>,
    ids: HashMap<u32, (String, ParamPtr)>,
}

// SAFETY: the `ParamPtr`s point into `scratch`, owned by this object on the heap and only read or
// written by the controller's (main) thread calls that take `held`'s lock first.
unsafe impl Send for Vst3Livechain {}
unsafe impl Sync for Vst3Livechain {}

impl Class for Vst3Livechain {
    type Interfaces = (
        IComponent,
        IEditController,
        IAudioProcessor,
        IMidiMapping,
        INoteExpressionController,
        IProcessContextRequirements,
        IUnitInfo,
        IInfoListener,
    );
}

impl Vst3Livechain {
    pub fn new() -> Self {
        let scratch = Box::new(LivechainParams::default());
        let ids = scratch.param_map().into_iter().map(|(id, ptr, _)| (vst3_param_id(&id), (id, ptr))).collect();
        Self {
            inner: Wrapper::new(),
            processing: AtomicBool::new(false),
            blocks: AtomicU64::new(0),
            held: Mutex::new(HashMap::new()),
            _scratch: scratch,
            ids,
        }
    }

    /// The value held for `id`, if no block has run since it was set.
    fn still_held(&self, held: &mut HashMap<u32, Held>, id: u32) -> Option<f64> {
        let h = *held.get(&id)?;
        if self.blocks.load(Ordering::Acquire) != h.block {
            held.remove(&id);
            return None;
        }
        Some(h.value)
    }

    /// `state` with the values still held put in, as nice-plug writes each type.
    fn patch(&self, state: &mut PluginState) {
        let Ok(mut held) = self.held.lock() else { return };
        let ids: Vec<u32> = held.keys().copied().collect();
        for id in ids {
            let (Some(v), Some((name, ptr))) = (self.still_held(&mut held, id), self.ids.get(&id)) else { continue };
            // SAFETY: `ptr` points into `self.scratch` (see the Send/Sync note); nothing else
            // reads it.
            let value = unsafe {
                ptr._internal_set_normalized_value(v as f32);
                match ptr {
                    ParamPtr::FloatParam(p) => StateValue::F32((**p).unmodulated_plain_value()),
                    ParamPtr::IntParam(p) => StateValue::I32((**p).unmodulated_plain_value()),
                    ParamPtr::BoolParam(p) => StateValue::Bool((**p).unmodulated_plain_value()),
                    ParamPtr::EnumParam(p) => match (**p).unmodulated_plain_id() {
                        Some(s) => StateValue::String(s.to_owned()),
                        None => StateValue::I32((**p).unmodulated_plain_value()),
                    },
                }
            };
            state.params.insert(name.clone(), value);
        }
    }
}

impl Default for Vst3Livechain {
    fn default() -> Self {
        Self::new()
    }
}

impl IEditControllerTrait for Vst3Livechain {
    unsafe fn getParamNormalized(&self, id: ParamID) -> ParamValue {
        if let Ok(mut held) = self.held.lock() {
            if let Some(v) = self.still_held(&mut held, id) {
                return v;
            }
        }
        unsafe { IEditControllerTrait::getParamNormalized(&self.inner, id) }
    }

    unsafe fn setParamNormalized(&self, id: ParamID, value: ParamValue) -> tresult {
        if !value.is_finite() {
            return kInvalidArgument;
        }
        let processing = self.processing.load(Ordering::Acquire);
        if let Ok(mut held) = self.held.lock() {
            if processing && self.ids.contains_key(&id) {
                let block = self.blocks.load(Ordering::Acquire);
                held.insert(id, Held { value: value.clamp(0.0, 1.0), block });
                return kResultOk;
            }
            held.remove(&id);
        }
        unsafe { IEditControllerTrait::setParamNormalized(&self.inner, id, value) }
    }
    unsafe fn setComponentState(&self, state: *mut IBStream) -> tresult {
        unsafe { IEditControllerTrait::setComponentState(&self.inner, state) }
    }
    unsafe fn setState(&self, state: *mut IBStream) -> tresult {
        unsafe { IEditControllerTrait::setState(&self.inner, state) }
    }
    unsafe fn getState(&self, state: *mut IBStream) -> tresult {
        unsafe { IEditControllerTrait::getState(&self.inner, state) }
    }
    unsafe fn getParameterCount(&self) -> int32 {
        unsafe { IEditControllerTrait::getParameterCount(&self.inner) }
    }
    unsafe fn getParameterInfo(&self, paramIndex: int32, info: *mut ParameterInfo) -> tresult {
        unsafe { IEditControllerTrait::getParameterInfo(&self.inner, paramIndex, info) }
    }
    unsafe fn getParamStringByValue(&self, id: ParamID, valueNormalized: ParamValue, string: *mut String128) -> tresult {
        unsafe { IEditControllerTrait::getParamStringByValue(&self.inner, id, valueNormalized, string) }
    }
    unsafe fn getParamValueByString(&self, id: ParamID, string: *mut TChar, valueNormalized: *mut ParamValue) -> tresult {
        unsafe { IEditControllerTrait::getParamValueByString(&self.inner, id, string, valueNormalized) }
    }
    unsafe fn normalizedParamToPlain(&self, id: ParamID, valueNormalized: ParamValue) -> ParamValue {
        unsafe { IEditControllerTrait::normalizedParamToPlain(&self.inner, id, valueNormalized) }
    }
    unsafe fn plainParamToNormalized(&self, id: ParamID, plainValue: ParamValue) -> ParamValue {
        unsafe { IEditControllerTrait::plainParamToNormalized(&self.inner, id, plainValue) }
    }
    unsafe fn setComponentHandler(&self, handler: *mut IComponentHandler) -> tresult {
        unsafe { IEditControllerTrait::setComponentHandler(&self.inner, handler) }
    }
    unsafe fn createView(&self, name: FIDString) -> *mut IPlugView {
        unsafe { IEditControllerTrait::createView(&self.inner, name) }
    }
}

impl IComponentTrait for Vst3Livechain {
    /// nice-plug's state, with the values held on the controller's side put in.
    unsafe fn getState(&self, state: *mut IBStream) -> tresult {
        let Some(host) = (unsafe { ComRef::from_raw(state) }) else { return kInvalidArgument };
        let mem = ComWrapper::new(MemStream::default());
        let Some(ptr) = mem.to_com_ptr::<IBStream>() else { return kResultFalse };
        let result = unsafe { IComponentTrait::getState(&self.inner, ptr.as_ptr()) };
        if result != kResultOk {
            return result;
        }
        let mut bytes = mem.data.borrow().clone();
        let anything_held = self.held.lock().map(|h| !h.is_empty()).unwrap_or(false);
        if anything_held {
            // A state nice-plug wrote compressed (a build with its zstd feature) is left as it is.
            if let Ok(mut parsed) = serde_json::from_slice::<PluginState>(&bytes) {
                self.patch(&mut parsed);
                if let Ok(patched) = serde_json::to_vec(&parsed) {
                    bytes = patched;
                }
            }
        }
        let mut written = 0;
        let result = unsafe { host.write(bytes.as_mut_ptr() as *mut c_void, bytes.len() as int32, &mut written) };
        if result == kResultOk && written as usize != bytes.len() {
            return kResultFalse;
        }
        result
    }

    /// A loaded state replaces whatever the controller held.
    unsafe fn setState(&self, state: *mut IBStream) -> tresult {
        if let Ok(mut held) = self.held.lock() {
            held.clear();
        }
        unsafe { IComponentTrait::setState(&self.inner, state) }
    }
    unsafe fn getControllerClassId(&self, classId: *mut TUID) -> tresult {
        unsafe { IComponentTrait::getControllerClassId(&self.inner, classId) }
    }
    unsafe fn setIoMode(&self, mode: IoMode) -> tresult {
        unsafe { IComponentTrait::setIoMode(&self.inner, mode) }
    }
    unsafe fn getBusCount(&self, r#type: MediaType, dir: BusDirection) -> int32 {
        unsafe { IComponentTrait::getBusCount(&self.inner, r#type, dir) }
    }
    unsafe fn getBusInfo(&self, r#type: MediaType, dir: BusDirection, index: int32, bus: *mut BusInfo) -> tresult {
        unsafe { IComponentTrait::getBusInfo(&self.inner, r#type, dir, index, bus) }
    }
    unsafe fn getRoutingInfo(&self, inInfo: *mut RoutingInfo, outInfo: *mut RoutingInfo) -> tresult {
        unsafe { IComponentTrait::getRoutingInfo(&self.inner, inInfo, outInfo) }
    }
    unsafe fn activateBus(&self, r#type: MediaType, dir: BusDirection, index: int32, state: TBool) -> tresult {
        unsafe { IComponentTrait::activateBus(&self.inner, r#type, dir, index, state) }
    }
    unsafe fn setActive(&self, state: TBool) -> tresult {
        unsafe { IComponentTrait::setActive(&self.inner, state) }
    }
}

impl IAudioProcessorTrait for Vst3Livechain {
    /// Our flag goes up before nice-plug's and down after it, so a value set in between is
    /// never dropped by both.
    unsafe fn setProcessing(&self, state: TBool) -> tresult {
        if state != 0 {
            self.processing.store(true, Ordering::Release);
        }
        let result = unsafe { IAudioProcessorTrait::setProcessing(&self.inner, state) };
        if state == 0 {
            self.processing.store(false, Ordering::Release);
        }
        result
    }

    unsafe fn process(&self, data: *mut ProcessData) -> tresult {
        let result = unsafe { IAudioProcessorTrait::process(&self.inner, data) };
        self.blocks.fetch_add(1, Ordering::AcqRel);
        result
    }
    unsafe fn setBusArrangements(
        &self,
        inputs: *mut SpeakerArrangement,
        numIns: int32,
        outputs: *mut SpeakerArrangement,
        numOuts: int32,
    ) -> tresult {
        unsafe { IAudioProcessorTrait::setBusArrangements(&self.inner, inputs, numIns, outputs, numOuts) }
    }
    unsafe fn getBusArrangement(&self, dir: BusDirection, index: int32, arr: *mut SpeakerArrangement) -> tresult {
        unsafe { IAudioProcessorTrait::getBusArrangement(&self.inner, dir, index, arr) }
    }
    unsafe fn canProcessSampleSize(&self, symbolicSampleSize: int32) -> tresult {
        unsafe { IAudioProcessorTrait::canProcessSampleSize(&self.inner, symbolicSampleSize) }
    }
    unsafe fn getLatencySamples(&self) -> uint32 {
        unsafe { IAudioProcessorTrait::getLatencySamples(&self.inner) }
    }
    unsafe fn setupProcessing(&self, setup: *mut ProcessSetup) -> tresult {
        unsafe { IAudioProcessorTrait::setupProcessing(&self.inner, setup) }
    }
    unsafe fn getTailSamples(&self) -> uint32 {
        unsafe { IAudioProcessorTrait::getTailSamples(&self.inner) }
    }
}

impl IPluginBaseTrait for Vst3Livechain {
    unsafe fn initialize(&self, context: *mut FUnknown) -> tresult {
        unsafe { IPluginBaseTrait::initialize(&self.inner, context) }
    }
    unsafe fn terminate(&self) -> tresult {
        unsafe { IPluginBaseTrait::terminate(&self.inner) }
    }
}

impl IMidiMappingTrait for Vst3Livechain {
    unsafe fn getMidiControllerAssignment(
        &self,
        busIndex: int32,
        channel: int16,
        midiControllerNumber: CtrlNumber,
        id: *mut ParamID,
    ) -> tresult {
        unsafe { IMidiMappingTrait::getMidiControllerAssignment(&self.inner, busIndex, channel, midiControllerNumber, id) }
    }
}

impl INoteExpressionControllerTrait for Vst3Livechain {
    unsafe fn getNoteExpressionCount(&self, busIndex: int32, channel: int16) -> int32 {
        unsafe { INoteExpressionControllerTrait::getNoteExpressionCount(&self.inner, busIndex, channel) }
    }
    unsafe fn getNoteExpressionInfo(
        &self,
        busIndex: int32,
        channel: int16,
        noteExpressionIndex: int32,
        info: *mut NoteExpressionTypeInfo,
    ) -> tresult {
        unsafe { INoteExpressionControllerTrait::getNoteExpressionInfo(&self.inner, busIndex, channel, noteExpressionIndex, info) }
    }
    unsafe fn getNoteExpressionStringByValue(
        &self,
        busIndex: int32,
        channel: int16,
        id: NoteExpressionTypeID,
        valueNormalized: NoteExpressionValue,
        string: *mut String128,
    ) -> tresult {
        unsafe {
            INoteExpressionControllerTrait::getNoteExpressionStringByValue(&self.inner, busIndex, channel, id, valueNormalized, string)
        }
    }
    unsafe fn getNoteExpressionValueByString(
        &self,
        busIndex: int32,
        channel: int16,
        id: NoteExpressionTypeID,
        string: *const TChar,
        valueNormalized: *mut NoteExpressionValue,
    ) -> tresult {
        unsafe {
            INoteExpressionControllerTrait::getNoteExpressionValueByString(&self.inner, busIndex, channel, id, string, valueNormalized)
        }
    }
}

impl IProcessContextRequirementsTrait for Vst3Livechain {
    unsafe fn getProcessContextRequirements(&self) -> uint32 {
        unsafe { IProcessContextRequirementsTrait::getProcessContextRequirements(&self.inner) }
    }
}

impl IUnitInfoTrait for Vst3Livechain {
    unsafe fn getUnitCount(&self) -> int32 {
        unsafe { IUnitInfoTrait::getUnitCount(&self.inner) }
    }
    unsafe fn getUnitInfo(&self, unitIndex: int32, info: *mut UnitInfo) -> tresult {
        unsafe { IUnitInfoTrait::getUnitInfo(&self.inner, unitIndex, info) }
    }
    unsafe fn getProgramListCount(&self) -> int32 {
        unsafe { IUnitInfoTrait::getProgramListCount(&self.inner) }
    }
    unsafe fn getProgramListInfo(&self, listIndex: int32, info: *mut ProgramListInfo) -> tresult {
        unsafe { IUnitInfoTrait::getProgramListInfo(&self.inner, listIndex, info) }
    }
    unsafe fn getProgramName(&self, listId: ProgramListID, programIndex: int32, name: *mut String128) -> tresult {
        unsafe { IUnitInfoTrait::getProgramName(&self.inner, listId, programIndex, name) }
    }
    unsafe fn getProgramInfo(
        &self,
        listId: ProgramListID,
        programIndex: int32,
        attributeId: nice_plug::wrapper::vst3::vst3::Steinberg::Vst::CString,
        attributeValue: *mut String128,
    ) -> tresult {
        unsafe { IUnitInfoTrait::getProgramInfo(&self.inner, listId, programIndex, attributeId, attributeValue) }
    }
    unsafe fn hasProgramPitchNames(&self, listId: ProgramListID, programIndex: int32) -> tresult {
        unsafe { IUnitInfoTrait::hasProgramPitchNames(&self.inner, listId, programIndex) }
    }
    unsafe fn getProgramPitchName(&self, listId: ProgramListID, programIndex: int32, midiPitch: int16, name: *mut String128) -> tresult {
        unsafe { IUnitInfoTrait::getProgramPitchName(&self.inner, listId, programIndex, midiPitch, name) }
    }
    unsafe fn getSelectedUnit(&self) -> UnitID {
        unsafe { IUnitInfoTrait::getSelectedUnit(&self.inner) }
    }
    unsafe fn selectUnit(&self, unitId: UnitID) -> tresult {
        unsafe { IUnitInfoTrait::selectUnit(&self.inner, unitId) }
    }
    unsafe fn getUnitByBus(&self, r#type: MediaType, dir: BusDirection, busIndex: int32, channel: int32, unitId: *mut UnitID) -> tresult {
        unsafe { IUnitInfoTrait::getUnitByBus(&self.inner, r#type, dir, busIndex, channel, unitId) }
    }
    unsafe fn setUnitProgramData(&self, listOrUnitId: int32, programIndex: int32, data: *mut IBStream) -> tresult {
        unsafe { IUnitInfoTrait::setUnitProgramData(&self.inner, listOrUnitId, programIndex, data) }
    }
}

impl IInfoListenerTrait for Vst3Livechain {
    unsafe fn setChannelContextInfos(&self, list: *mut IAttributeList) -> tresult {
        unsafe { IInfoListenerTrait::setChannelContextInfos(&self.inner, list) }
    }
}

/// An in-memory `IBStream`: what nice-plug's wrapper writes its state into before it is patched.
#[derive(Default)]
struct MemStream {
    data: RefCell<Vec<u8>>,
    pos: RefCell<usize>,
}

impl Class for MemStream {
    type Interfaces = (IBStream,);
}

impl IBStreamTrait for MemStream {
    unsafe fn read(&self, buffer: *mut c_void, numBytes: int32, numBytesRead: *mut int32) -> tresult {
        let (data, mut pos) = (self.data.borrow(), self.pos.borrow_mut());
        let n = (numBytes.max(0) as usize).min(data.len().saturating_sub(*pos));
        if n > 0 {
            // SAFETY: the caller gives a buffer of at least `numBytes` bytes.
            unsafe { std::ptr::copy_nonoverlapping(data[*pos..].as_ptr(), buffer as *mut u8, n) };
        }
        *pos += n;
        if !numBytesRead.is_null() {
            unsafe { *numBytesRead = n as int32 };
        }
        kResultOk
    }

    unsafe fn write(&self, buffer: *mut c_void, numBytes: int32, numBytesWritten: *mut int32) -> tresult {
        let n = numBytes.max(0) as usize;
        let (mut data, mut pos) = (self.data.borrow_mut(), self.pos.borrow_mut());
        if data.len() < *pos + n {
            data.resize(*pos + n, 0);
        }
        if n > 0 {
            // SAFETY: the caller gives `numBytes` readable bytes.
            unsafe { std::ptr::copy_nonoverlapping(buffer as *const u8, data[*pos..].as_mut_ptr(), n) };
        }
        *pos += n;
        if !numBytesWritten.is_null() {
            unsafe { *numBytesWritten = n as int32 };
        }
        kResultOk
    }

    // The seek modes are u32 in the Linux bindings and i32 in the Windows ones: the cast is
    // needed there.
    #[allow(clippy::unnecessary_cast)]
    unsafe fn seek(&self, pos: int64, mode: int32, result: *mut int64) -> tresult {
        let len = self.data.borrow().len() as i64;
        let here = *self.pos.borrow() as i64;
        let to = match mode as u32 {
            m if m == IBStream_::IStreamSeekMode_::kIBSeekSet as u32 => pos,
            m if m == IBStream_::IStreamSeekMode_::kIBSeekCur as u32 => here + pos,
            m if m == IBStream_::IStreamSeekMode_::kIBSeekEnd as u32 => len + pos,
            _ => return kInvalidArgument,
        };
        if to < 0 {
            return kInvalidArgument;
        }
        *self.pos.borrow_mut() = to as usize;
        if !result.is_null() {
            unsafe { *result = to };
        }
        kResultOk
    }

    unsafe fn tell(&self, pos: *mut int64) -> tresult {
        if pos.is_null() {
            return kInvalidArgument;
        }
        unsafe { *pos = *self.pos.borrow() as int64 };
        kResultOk
    }
}

/// The plugin factory: one class, Livechain, made as `Vst3Livechain`.
struct Factory {
    info: PluginInfo,
}

impl Class for Factory {
    type Interfaces = (IPluginFactory, IPluginFactory2, IPluginFactory3);
}

impl IPluginFactoryTrait for Factory {
    unsafe fn getFactoryInfo(&self, info: *mut PFactoryInfo) -> tresult {
        if info.is_null() {
            return kInvalidArgument;
        }
        unsafe { *info = self.info.create_factory_info() };
        kResultOk
    }

    unsafe fn countClasses(&self) -> int32 {
        1
    }

    unsafe fn getClassInfo(&self, index: int32, info: *mut PClassInfo) -> tresult {
        if index != 0 || info.is_null() {
            return kInvalidArgument;
        }
        unsafe { *info = self.info.create_class_info() };
        kResultOk
    }

    unsafe fn createInstance(&self, cid: FIDString, iid: FIDString, obj: *mut *mut c_void) -> tresult {
        if cid.is_null() || iid.is_null() || obj.is_null() {
            return kInvalidArgument;
        }
        // SAFETY: a class ID is 16 bytes.
        if unsafe { &*(cid as *const [u8; 16]) } != self.info.cid {
            return kInvalidArgument;
        }
        let instance = ComWrapper::new(Vst3Livechain::new());
        let Some(unknown) = instance.as_com_ref::<FUnknown>() else { return kNoInterface };
        let ptr = unknown.as_ptr();
        // SAFETY: `ptr` is a live FUnknown; queryInterface adds the reference the host owns.
        unsafe { ((*(*ptr).vtbl).queryInterface)(ptr, iid as *const TUID, obj) }
    }
}

impl IPluginFactory2Trait for Factory {
    unsafe fn getClassInfo2(&self, index: int32, info: *mut PClassInfo2) -> tresult {
        if index != 0 || info.is_null() {
            return kInvalidArgument;
        }
        unsafe { *info = self.info.create_class_info_2() };
        kResultOk
    }
}

impl IPluginFactory3Trait for Factory {
    unsafe fn getClassInfoUnicode(&self, index: int32, info: *mut PClassInfoW) -> tresult {
        if index != 0 || info.is_null() {
            return kInvalidArgument;
        }
        unsafe { *info = self.info.create_class_info_unicode() };
        kResultOk
    }

    unsafe fn setHostContext(&self, _context: *mut FUnknown) -> tresult {
        kResultOk
    }
}

/// The VST3 module's factory.
#[unsafe(no_mangle)]
pub extern "system" fn GetPluginFactory() -> *mut c_void {
    match ComWrapper::new(Factory { info: PluginInfo::for_plugin::<Livechain>() }).to_com_ptr::<IPluginFactory>() {
        Some(ptr) => ptr.into_raw() as *mut c_void,
        None => std::ptr::null_mut(),
    }
}

#[cfg(all(target_family = "unix", not(target_os = "macos")))]
#[unsafe(no_mangle)]
pub extern "C" fn ModuleEntry(_lib_handle: *mut c_void) -> bool {
    nice_plug::wrapper::setup_logger::<Livechain>();
    true
}

#[cfg(all(target_family = "unix", not(target_os = "macos")))]
#[unsafe(no_mangle)]
pub extern "C" fn ModuleExit() -> bool {
    true
}

#[cfg(target_os = "macos")]
#[unsafe(no_mangle)]
pub extern "C" fn bundleEntry(_lib_handle: *mut c_void) -> bool {
    nice_plug::wrapper::setup_logger::<Livechain>();
    true
}

#[cfg(target_os = "macos")]
#[unsafe(no_mangle)]
pub extern "C" fn bundleExit() -> bool {
    true
}

#[cfg(target_os = "windows")]
#[unsafe(no_mangle)]
pub extern "system" fn InitDll() -> bool {
    nice_plug::wrapper::setup_logger::<Livechain>();
    true
}

#[cfg(target_os = "windows")]
#[unsafe(no_mangle)]
pub extern "system" fn ExitDll() -> bool {
    true
}
