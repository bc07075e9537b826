//! The detectors a gateway can run, by name (for `ioto-host detect` and the benches).

use ioto_core::detect::{Contextual, Detector, ModelDetector, RobustZ};

/// Window of the model-backed detector: the `ad01` autoencoder's 640 inputs.
pub const MODEL_WINDOW: usize = 640;

/// A detector's command-line name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetectorName {
    /// [`RobustZ`].
    RobustZ,
    /// [`Contextual`].
    Contextual,
    /// [`ModelDetector`] over an int8 autoencoder run by `ioto-ml`.
    Model,
}

impl DetectorName {
    /// Every detector, in the order the benches report them.
    pub const ALL: [Self; 3] = [Self::RobustZ, Self::Contextual, Self::Model];

    /// The name on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RobustZ => "robust-z",
            Self::Contextual => "contextual",
            Self::Model => "model",
        }
    }

    /// The detector called `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A detector by name; `model` is the `.tflite` file for [`DetectorName::Model`].
pub fn build(name: DetectorName, model: Option<&[u8]>) -> Result<Box<dyn Detector>, String> {
    Ok(match name {
        DetectorName::RobustZ => Box::new(RobustZ::new()),
        DetectorName::Contextual => Box::new(Contextual::new()),
        DetectorName::Model => {
            let bytes = model.ok_or("the model detector needs --model FILE.tflite")?;
            // One detector per process: the model and its arena live as long as it.
            let bytes: &'static [u8] = Box::leak(bytes.to_vec().into_boxed_slice());
            let model = ioto_ml::Model::parse(bytes).map_err(|e| format!("model: {e}"))?;
            let arena: &'static mut [u8] =
                Box::leak(vec![0u8; model.arena_size()].into_boxed_slice());
            let auto = ioto_ml::detect::Autoencoder::new(&model, arena)
                .map_err(|e| format!("model: {e}"))?;
            Box::new(ModelDetector::<_, MODEL_WINDOW>::new(auto))
        }
    })
}
