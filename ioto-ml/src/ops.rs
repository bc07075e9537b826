//! The operator registry, above the kernels. Everything the engine knows about an
//! operator — its TFLite name and codes, the versions it accepts, its `op-*` cargo
//! feature, its prepare and eval functions — is written once, in the `operators!`
//! table at the end of this file; the [`Kind`] enum, the run-time table [`OPS`] (one
//! [`OpDef`] per operator), the prepare dispatch ([`prepare`]) and the kernel
//! constants of compiled models (`compiled::kernels`) are generated from it.

use crate::error::{Error, Fault, Load, Result};
use crate::kernels::data::Op;
use crate::kernels::prepare::OpCtx;
use crate::kernels::{
    activation, conv, conv_eval, depthwise_eval, elementwise, fc_eval, fully_connected, mean, pool,
    pool_eval, quantize, shape,
};
use crate::record::Writer;

/// A kernel's eval function.
pub(crate) type KernelFn = fn(Op<'_>) -> Result<()>;

/// One operator of the registry.
pub(crate) struct OpDef {
    /// The builtin operator codes it runs (PAD also runs PADV2).
    codes: &'static [i32],
    /// The highest operator version it accepts.
    max_version: i32,
    /// Its kernel, `None` when its `op-*` cargo feature is off (then neither its
    /// kernel nor its prepare function is referenced, so neither is linked).
    eval: Option<KernelFn>,
}

impl Kind {
    /// This operator's registry entry.
    pub(crate) fn def(self) -> &'static OpDef {
        &OPS[self as usize]
    }

    /// Maps a builtin operator code and version to a kind this build runs.
    pub(crate) fn from_code(code: i32, version: i32) -> Option<Kind> {
        let kind = *KINDS.iter().find(|k| k.def().codes.contains(&code))?;
        let def = kind.def();
        ((1..=def.max_version).contains(&version) && def.eval.is_some()).then_some(kind)
    }

    /// The kind a record's first word names.
    pub(crate) fn from_word(w: i32) -> Option<Kind> {
        KINDS.get(usize::try_from(w).ok()?).copied()
    }

    /// The kernel of this operator, if this build has it (`op-*` features).
    pub(crate) fn eval(self) -> Result<KernelFn> {
        self.def().eval.ok_or(NOT_BUILT_IN)
    }
}

/// The error for an operator this build leaves out (unreachable through
/// `Model::parse`, which refuses such operators by name).
const NOT_BUILT_IN: Error = Error::Malformed("operator not built in");

/// The kernel for a record's kind word, if this build has it.
pub(crate) fn kernel(kind_word: i32) -> Result<KernelFn> {
    Kind::from_word(kind_word)
        .ok_or(Error::Malformed("record kind"))?
        .eval()
}

/// One operator's kernel, named in generated code (see [`kernels`]).
#[derive(Clone, Copy)]
pub struct Kernel {
    pub(crate) kind: Kind,
    pub(crate) run: KernelFn,
}

impl Kernel {
    /// The TFLite builtin operator this kernel runs (the name of its constant in
    /// [`kernels`]).
    pub const fn name(&self) -> &'static str {
        self.kind.tflite_name()
    }
}

impl Kind {
    /// This operator's kernel for a compiled model (the value of its constant in
    /// [`kernels`]), if this build has it.
    #[cfg(feature = "codegen")]
    pub(crate) fn kernel(self) -> Result<Kernel> {
        let run = self.eval()?;
        Ok(Kernel { kind: self, run })
    }
}

impl core::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Generates the registry from the one table below: [`Kind`], [`KINDS`],
/// [`Kind::tflite_name`], [`OPS`], [`prepare`] and the public [`kernels`] constants.
macro_rules! operators {
    ($(
        $kind:ident: $name:ident [$($code:literal),+] ..=$max:expr, $feature:literal,
            $prepare:expr, $eval:expr;
    )*) => {
        /// The operators the engine implements (a record's first word).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub(crate) enum Kind {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                $kind,
            )*
        }

        /// Every kind, in record-word order.
        const KINDS: &[Kind] = &[$(Kind::$kind),*];

        impl Kind {
            /// The TFLite builtin operator name, as in [`kernels`].
            pub(crate) const fn tflite_name(self) -> &'static str {
                match self {
                    $(Kind::$kind => stringify!($name),)*
                }
            }
        }

        /// The registry, indexed by [`Kind`].
        static OPS: [OpDef; KINDS.len()] = [$(
            OpDef {
                codes: &[$($code),+],
                max_version: $max,
                eval: if cfg!(feature = $feature) { Some($eval) } else { None },
            },
        )*];

        /// Validates operator `ctx` (of kind `kind`) and appends its parameters to
        /// its record; returns its MAC count. A `match`, not a function pointer in
        /// [`OPS`], so that the compiler can share code across the prepare
        /// functions (about 600 bytes of flash on thumbv7em).
        pub(crate) fn prepare(kind: Kind, ctx: &OpCtx<'_>, w: &mut Writer<'_>) -> Load<u64> {
            match kind {
                $(Kind::$kind if cfg!(feature = $feature) => ($prepare)(ctx, w),)*
                _ => Err(Fault::of(&NOT_BUILT_IN)),
            }
        }

        /// The kernels, one constant per TFLite builtin operator (generated code names
        /// the ones its model uses, so only those are linked, whatever the `op-*`
        /// features).
        pub mod kernels {
            use super::*;
            $(
                #[doc = concat!("The `", stringify!($name), "` kernel.")]
                pub const $name: Kernel = Kernel { kind: Kind::$kind, run: $eval };
            )*
        }
    };
}

/// The highest version of RESHAPE accepted: any (it only copies).
const ANY: i32 = i32::MAX;

// Kind: TFLite name [builtin codes] ..=highest version, "cargo feature",
//     prepare, eval;
operators! {
    Conv2d: CONV_2D [3] ..=8, "op-conv-2d",
        conv::prepare_conv, conv_eval;
    DepthwiseConv2d: DEPTHWISE_CONV_2D [4] ..=7, "op-depthwise-conv-2d",
        conv::prepare_depthwise, depthwise_eval;
    FullyConnected: FULLY_CONNECTED [9] ..=12, "op-fully-connected",
        fully_connected::prepare, fc_eval;
    AveragePool2d: AVERAGE_POOL_2D [1] ..=3, "op-average-pool-2d",
        |c, w| pool::prepare(c, w, true), pool_eval;
    MaxPool2d: MAX_POOL_2D [17] ..=3, "op-max-pool-2d",
        |c, w| pool::prepare(c, w, false), pool_eval;
    Add: ADD [0] ..=5, "op-add",
        |c, w| elementwise::prepare(c, w, false), elementwise::eval;
    Mul: MUL [18] ..=7, "op-mul",
        |c, w| elementwise::prepare(c, w, true), elementwise::eval;
    Reshape: RESHAPE [22] ..=ANY, "op-reshape",
        shape::prepare_reshape, shape::eval_reshape;
    Softmax: SOFTMAX [25] ..=3, "op-softmax",
        activation::prepare_softmax, activation::eval_softmax;
    Logistic: LOGISTIC [14] ..=3, "op-logistic",
        |c, w| activation::prepare_sigmoid(c, w, false), activation::eval_sigmoid;
    Tanh: TANH [28] ..=3, "op-tanh",
        |c, w| activation::prepare_sigmoid(c, w, true), activation::eval_sigmoid;
    Relu: RELU [19] ..=3, "op-relu",
        activation::prepare_relu, activation::eval_relu;
    Relu6: RELU6 [21] ..=2, "op-relu6",
        activation::prepare_relu6, activation::eval_relu6;
    Quantize: QUANTIZE [114] ..=3, "op-quantize",
        quantize::prepare_quantize, quantize::eval_quantize;
    Dequantize: DEQUANTIZE [6] ..=5, "op-dequantize",
        quantize::prepare_dequantize, quantize::eval_dequantize;
    Pad: PAD [34, 60] ..=4, "op-pad",
        shape::prepare_pad, shape::eval_pad;
    Concatenation: CONCATENATION [2] ..=4, "op-concatenation",
        shape::prepare_concat, shape::eval_concat;
    Mean: MEAN [40] ..=3, "op-mean",
        mean::prepare, mean::eval;
}
