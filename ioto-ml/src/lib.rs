//! # ioto-ml
//!
//! A `no_std`, allocation-free int8 inference engine for TensorFlow Lite models,
//! bit-exact with TensorFlow Lite for Microcontrollers (TFLM). Models are read at run
//! time from a byte slice (so they can be replaced over the air); the caller supplies
//! one arena for all intermediate tensors.
#![no_std]
#![deny(missing_docs)]
