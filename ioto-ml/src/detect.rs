//! An int8 autoencoder as an anomaly detector's model: `ioto-ml` implements
//! [`ioto_core::detect::ReconstructionModel`] (feature `ioto-core`), so
//! [`ioto_core::detect::ModelDetector`] scores a stream by how badly the model
//! reconstructs its recent values — for example the MLPerf Tiny `ad01` autoencoder
//! (640 int8 inputs and outputs).
//!
//! ```no_run
//! # fn demo(model_bytes: &[u8]) -> Result<(), ioto_ml::Error> {
//! use ioto_core::detect::{Detector, ModelDetector};
//! let model = ioto_ml::Model::parse(model_bytes)?;
//! let mut arena = [0u8; 4096];
//! let auto = ioto_ml::detect::Autoencoder::new(&model, &mut arena)?;
//! let mut detector = ModelDetector::<_, 640>::new(auto);
//! let score = detector.update(ioto_core::Instant(0), 1.0);
//! # let _ = score; Ok(()) }
//! ```

use crate::error::{Error, Result};
use crate::interpreter::Interpreter;
use crate::model::Model;
use crate::schema::tensor_type;

/// A model with one int8 input and one int8 output of the same size, run as an
/// autoencoder.
pub struct Autoencoder<'m, 'a> {
    interpreter: Interpreter<'m, 'a>,
    input: (f32, i32),
    output: (f32, i32),
    len: usize,
}

impl<'m, 'a> Autoencoder<'m, 'a> {
    /// Prepares `model` in `arena` (at least [`Model::arena_size`] bytes). The model
    /// must have exactly one int8 input and one int8 output of equal size.
    pub fn new(model: &Model<'m>, arena: &'a mut [u8]) -> Result<Self> {
        if model.input_count() != 1 || model.output_count() != 1 {
            return Err(Error::Malformed(
                "an autoencoder has one input and one output",
            ));
        }
        let i = model.tensor(model.input_tensor(0)?)?;
        let o = model.tensor(model.output_tensor(0)?)?;
        for t in [&i, &o] {
            if t.tensor_type != tensor_type::INT8 {
                return Err(Error::UnsupportedType {
                    op: "autoencoder",
                    tensor_type: t.tensor_type,
                });
            }
        }
        if i.bytes != o.bytes {
            return Err(Error::SizeMismatch {
                expected: i.bytes,
                got: o.bytes,
            });
        }
        Ok(Self {
            interpreter: Interpreter::new(model, arena)?,
            input: (i.scale, i.zero_point),
            output: (o.scale, o.zero_point),
            len: i.bytes,
        })
    }

    /// Values in one window (the model's input size).
    pub const fn window(&self) -> usize {
        self.len
    }

    /// Reconstructs `window` (values in `[0, 1]`, spread over the input's int8 range)
    /// and returns the mean squared error in the input's real units.
    pub fn reconstruct(&mut self, window: &[f32]) -> Result<f32> {
        if window.len() != self.len {
            return Err(Error::SizeMismatch {
                expected: self.len,
                got: window.len(),
            });
        }
        let input = self.interpreter.input_mut(0)?;
        for (q, x) in input.iter_mut().zip(window) {
            let v = quantize(*x);
            *q = v as i8 as u8;
        }
        self.interpreter.invoke()?;
        let (si, zi) = self.input;
        let (so, zo) = self.output;
        let mut sum = 0.0f32;
        // Read the input back from the window (the arena may reuse its bytes).
        for (x, &q) in window.iter().zip(self.interpreter.output(0)?) {
            let qi = quantize(*x);
            let a = (qi - zi) as f32 * si;
            let b = (i32::from(q as i8) - zo) as f32 * so;
            sum += (a - b) * (a - b);
        }
        Ok(sum / self.len as f32)
    }
}

/// `x` in `[0, 1]` (clamped) to the int8 range, rounding to nearest.
fn quantize(x: f32) -> i32 {
    (x.clamp(0.0, 1.0) * 255.0 + 0.5) as i32 - 128
}

impl ioto_core::detect::ReconstructionModel for Autoencoder<'_, '_> {
    type Error = Error;

    fn reconstruction_error(&mut self, window: &[f32]) -> Result<f32> {
        self.reconstruct(window)
    }
}
