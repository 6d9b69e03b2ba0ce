//! The VST3 edit controller through the bundled `Livechain.vst3`, loaded as a host loads it
//! (`GetPluginFactory`, `createInstance`): a value set on the controller while the processor is
//! processing reads back at once and is in a state saved before the next block (Steinberg's
//! validator, "Parameter Bypass persistence"), and every parameter's VST3 ID is the one
//! `livechain::vst3_entry` computes. Needs the bundle (`cargo xtask test`).

#![allow(non_snake_case)]

mod common;

use livechain::vst3_entry::vst3_param_id;
use nice_plug::params::Params;
use nice_plug::plugin::{ParamValue as StateValue, PluginState};
use nice_plug::wrapper::vst3::vst3::Steinberg::Vst::{
    AudioBusBuffers, AudioBusBuffers__type0, IAudioProcessor, IAudioProcessorTrait, IComponent, IComponentTrait, IEditController,
    IEditControllerTrait, IParamValueQueue, IParamValueQueueTrait, IParameterChanges, IParameterChangesTrait, ParamID, ParamValue,
    ParameterInfo, ProcessData, ProcessModes_, ProcessSetup, SymbolicSampleSizes_,
};
use nice_plug::wrapper::vst3::vst3::Steinberg::{
    int32, int64, kInvalidArgument, kResultFalse, kResultOk, tresult, IBStream, IBStreamTrait, IPluginBaseTrait, IPluginFactory,
    IPluginFactoryTrait, PClassInfo,
};
use nice_plug::wrapper::vst3::vst3::{Class, ComPtr, ComWrapper, Interface};
use std::cell::RefCell;
use std::ffi::c_void;

/// A host's memory stream for `getState` (writes append; nothing else is needed here).
#[derive(Default)]
struct Sink(RefCell<Vec<u8>>);

impl Class for Sink {
    type Interfaces = (IBStream,);
}

impl IBStreamTrait for Sink {
    unsafe fn read(&self, _buffer: *mut c_void, _n: int32, read: *mut int32) -> tresult {
        if !read.is_null() {
            unsafe { *read = 0 };
        }
        kResultOk
    }
    unsafe fn write(&self, buffer: *mut c_void, n: int32, written: *mut int32) -> tresult {
        let bytes = unsafe { std::slice::from_raw_parts(buffer as *const u8, n.max(0) as usize) };
        self.0.borrow_mut().extend_from_slice(bytes);
        if !written.is_null() {
            unsafe { *written = n };
        }
        kResultOk
    }
    unsafe fn seek(&self, _pos: int64, _mode: int32, _result: *mut int64) -> tresult {
        kResultOk
    }
    unsafe fn tell(&self, pos: *mut int64) -> tresult {
        if !pos.is_null() {
            unsafe { *pos = self.0.borrow().len() as int64 };
        }
        kResultOk
    }
}

/// One parameter change at one sample, as a host's process queue hands it over.
struct Queue {
    id: ParamID,
    offset: int32,
    value: ParamValue,
}

impl Class for Queue {
    type Interfaces = (IParamValueQueue,);
}

impl IParamValueQueueTrait for Queue {
    unsafe fn getParameterId(&self) -> ParamID {
        self.id
    }
    unsafe fn getPointCount(&self) -> int32 {
        1
    }
    unsafe fn getPoint(&self, index: int32, offset: *mut int32, value: *mut ParamValue) -> tresult {
        if index != 0 {
            return kInvalidArgument;
        }
        unsafe {
            *offset = self.offset;
            *value = self.value;
        }
        kResultOk
    }
    unsafe fn addPoint(&self, _offset: int32, _value: ParamValue, _index: *mut int32) -> tresult {
        kResultFalse
    }
}

/// The block's parameter changes: one queue.
struct Changes(ComPtr<IParamValueQueue>);

impl Class for Changes {
    type Interfaces = (IParameterChanges,);
}

impl IParameterChangesTrait for Changes {
    unsafe fn getParameterCount(&self) -> int32 {
        1
    }
    unsafe fn getParameterData(&self, index: int32) -> *mut IParamValueQueue {
        if index == 0 {
            self.0.as_ptr()
        } else {
            std::ptr::null_mut()
        }
    }
    unsafe fn addParameterData(&self, _id: *const ParamID, _index: *mut int32) -> *mut IParamValueQueue {
        std::ptr::null_mut()
    }
}

/// Processes one stereo block of a constant `level` with `change` in the block's queue; returns
/// the left output.
fn process_block(processor: &ComPtr<IAudioProcessor>, frames: usize, level: f32, change: Option<(ParamID, i32, f64)>) -> Vec<f32> {
    let mut input = [vec![level; frames], vec![level; frames]];
    let mut output = [vec![0.0f32; frames], vec![0.0f32; frames]];
    let mut in_ptrs = [input[0].as_mut_ptr(), input[1].as_mut_ptr()];
    let mut out_ptrs = [output[0].as_mut_ptr(), output[1].as_mut_ptr()];
    // Every input bus the plugin declares: the main one, then the sidechain (silent here).
    let mut side = [vec![0.0f32; frames], vec![0.0f32; frames]];
    let mut side_ptrs = [side[0].as_mut_ptr(), side[1].as_mut_ptr()];
    let mut inputs = [
        AudioBusBuffers { numChannels: 2, silenceFlags: 0, __field0: AudioBusBuffers__type0 { channelBuffers32: in_ptrs.as_mut_ptr() } },
        AudioBusBuffers { numChannels: 2, silenceFlags: 0, __field0: AudioBusBuffers__type0 { channelBuffers32: side_ptrs.as_mut_ptr() } },
    ];
    let mut outputs =
        AudioBusBuffers { numChannels: 2, silenceFlags: 0, __field0: AudioBusBuffers__type0 { channelBuffers32: out_ptrs.as_mut_ptr() } };
    let changes = change.map(|(id, offset, value)| {
        let queue = ComWrapper::new(Queue { id, offset, value }).to_com_ptr::<IParamValueQueue>().unwrap();
        ComWrapper::new(Changes(queue)).to_com_ptr::<IParameterChanges>().unwrap()
    });
    let mut data = ProcessData {
        processMode: ProcessModes_::kRealtime as i32,
        symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
        numSamples: frames as i32,
        numInputs: 2,
        numOutputs: 1,
        inputs: inputs.as_mut_ptr(),
        outputs: &mut outputs,
        inputParameterChanges: changes.as_ref().map_or(std::ptr::null_mut(), |c| c.as_ptr()),
        outputParameterChanges: std::ptr::null_mut(),
        inputEvents: std::ptr::null_mut(),
        outputEvents: std::ptr::null_mut(),
        processContext: std::ptr::null_mut(),
    };
    assert_eq!(unsafe { processor.process(&mut data) }, kResultOk);
    let _ = (&input, &mut side);
    output[0].clone()
}

fn save(component: &ComPtr<IComponent>) -> PluginState {
    let sink = ComWrapper::new(Sink::default());
    let stream = sink.to_com_ptr::<IBStream>().unwrap();
    assert_eq!(unsafe { component.getState(stream.as_ptr()) }, kResultOk);
    let bytes = sink.0.borrow().clone();
    serde_json::from_slice(&bytes).expect("the saved state is nice-plug's JSON")
}

#[test]
#[ignore = "system: loads the bundled VST3 (cargo xtask test)"]
fn a_value_set_on_the_controller_while_processing_reads_back_and_is_saved() {
    let bundle = common::bundled("Livechain.vst3");
    let so = bundle.join("Contents/x86_64-linux/Livechain.so");
    // SAFETY: our own plugin, loaded as a host would.
    let lib = unsafe { libloading::Library::new(&so) }.expect("the VST3 module loads");
    let get_factory: libloading::Symbol<extern "system" fn() -> *mut c_void> = unsafe { lib.get(b"GetPluginFactory") }.unwrap();
    let factory = unsafe { ComPtr::<IPluginFactory>::from_raw(get_factory() as *mut IPluginFactory) }.expect("a factory");
    let mut info: PClassInfo = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { factory.getClassInfo(0, &mut info) }, kResultOk);
    let mut obj: *mut c_void = std::ptr::null_mut();
    let iid = IComponent::IID;
    let r = unsafe { factory.createInstance(info.cid.as_ptr(), iid.as_ptr() as *const _, &mut obj) };
    assert_eq!(r, kResultOk);
    let component = unsafe { ComPtr::<IComponent>::from_raw(obj as *mut IComponent) }.unwrap();
    assert_eq!(unsafe { component.initialize(std::ptr::null_mut()) }, kResultOk);
    let processor = component.cast::<IAudioProcessor>().expect("IAudioProcessor");
    let controller = component.cast::<IEditController>().expect("IEditController");

    // Every parameter's ID is the one the controller layer computes.
    let count = unsafe { controller.getParameterCount() };
    let mut reported = std::collections::HashMap::new();
    for i in 0..count {
        let mut p: ParameterInfo = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { controller.getParameterInfo(i, &mut p) }, kResultOk);
        let title: String = p.title.iter().take_while(|&&c| c != 0).map(|&c| char::from_u32(c as u32).unwrap_or('?')).collect();
        reported.insert(p.id, title);
    }
    let params = livechain::params::LivechainParams::default();
    for (id, _, _) in params.param_map() {
        assert!(reported.contains_key(&vst3_param_id(&id)), "{id}: VST3 ID {} is not reported", vst3_param_id(&id));
    }
    let bypass = vst3_param_id("bypass");
    let in_gain = vst3_param_id("in_gain");

    let mut setup = ProcessSetup {
        processMode: ProcessModes_::kRealtime as i32,
        symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
        maxSamplesPerBlock: 512,
        sampleRate: 48_000.0,
    };
    assert_eq!(unsafe { processor.setupProcessing(&mut setup) }, kResultOk);
    assert_eq!(unsafe { component.setActive(1) }, kResultOk);
    assert_eq!(unsafe { processor.setProcessing(1) }, kResultOk);

    // The validator's sequence: set, then read back at once, while processing.
    for (id, value) in [(bypass, 1.0), (in_gain, 0.75)] {
        assert_eq!(unsafe { controller.setParamNormalized(id, value) }, kResultOk);
        let got = unsafe { controller.getParamNormalized(id) };
        assert!((got - value).abs() < 1e-6, "{}: set {value} while processing, read back {got}", reported[&id]);
    }
    // A state saved before the next block holds both.
    let state = save(&component);
    assert!(matches!(state.params.get("bypass"), Some(StateValue::Bool(true))), "bypass in the state: {:?}", state.params.get("bypass"));
    let want = unsafe { controller.normalizedParamToPlain(in_gain, 0.75) } as f32;
    match state.params.get("in_gain") {
        Some(StateValue::F32(v)) => assert!((v - want).abs() < 1e-4, "in_gain in the state: {v}, set {want}"),
        other => panic!("in_gain in the state: {other:?}"),
    }

    // The processor still takes the value from the process queue, at its sample: the input gain
    // set to +6 dB (held on the controller above at 0.75) arrives in the queue at sample 100 of a
    // block; before it the output is the input untouched, from it on the gain glides up (its 20 ms
    // smoother). Then the parameter has moved, and the controller reads the parameter again.
    let six = unsafe { controller.plainParamToNormalized(in_gain, 6.0) };
    let _ = process_block(&processor, 256, 0.25, None);
    let out = process_block(&processor, 256, 0.25, Some((in_gain, 100, six)));
    assert!(out[..100].iter().all(|&y| y == 0.25), "before the change's sample the gain is untouched: {:?}", &out[95..100]);
    assert!(out[100..].iter().all(|&y| y > 0.25) && out[255] > out[101], "from its sample on it rises: {} .. {}", out[100], out[255]);
    let read = unsafe { controller.getParamNormalized(in_gain) };
    assert!((read - six).abs() < 1e-6, "after the block the controller reads the parameter: {read}, queued {six}");

    // Stopped, a value set goes straight to the parameter (nice-plug's own path) and reads back.
    assert_eq!(unsafe { processor.setProcessing(0) }, kResultOk);
    assert_eq!(unsafe { controller.setParamNormalized(bypass, 0.0) }, kResultOk);
    assert_eq!(unsafe { controller.getParamNormalized(bypass) }, 0.0);
    assert!(matches!(save(&component).params.get("bypass"), Some(StateValue::Bool(false))));

    assert_eq!(unsafe { component.setActive(0) }, kResultOk);
    assert_eq!(unsafe { component.terminate() }, kResultOk);
    drop((controller, processor, component, factory));
}
