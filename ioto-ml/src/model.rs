//! Loading and validating a TFLite model, and sizing its arena.

use crate::error::{Error, Fault, Load, Result, fault};
use crate::flatbuffer::{Table, Vector};
use crate::kernels::prepare::OpCtx;
use crate::ops::{self, Kind};
use crate::planner::{self, Request};
use crate::record::{Loc, MAX_INPUTS, Writer};
use crate::schema::{ModelT, OperatorT, SubGraphT, op_name, operator_code};
use crate::tensor::{TensorInfo, Tensors};

/// The most tensors a model may have, counting one scratch buffer per CONV_2D
/// (planner scratch lives on the stack).
pub const MAX_TENSORS: usize = 256;

/// A validated TFLite model, borrowed from its flatbuffer bytes (weights stay there).
///
/// [`Model::parse`] checks the whole flatbuffer structure, resolves every operator
/// (unsupported ones are reported by name), validates every operator's tensor types
/// and shapes and plans the arena, so [`Model::arena_size`] is exact before anything
/// runs.
#[derive(Clone, Copy, Debug)]
pub struct Model<'m> {
    pub(crate) tensors: Tensors<'m>,
    pub(crate) operators: Vector<'m, Table<'m>>,
    pub(crate) opcodes: Vector<'m, Table<'m>>,
    pub(crate) inputs: Vector<'m, i32>,
    pub(crate) outputs: Vector<'m, i32>,
    pub(crate) header_bytes: usize,
    pub(crate) activation_bytes: usize,
    macs: u64,
}

impl<'m> Model<'m> {
    /// Parses and validates a `.tflite` flatbuffer.
    pub fn parse(data: &'m [u8]) -> Result<Self> {
        let root = ModelT(Table::root(data)?);
        let subgraphs = root.subgraphs()?;
        if subgraphs.len() != 1 {
            return Err(Error::Subgraphs(subgraphs.len()));
        }
        let sg = SubGraphT(subgraphs.get(0)?);
        let mut model = Model {
            tensors: Tensors::new(data, sg.tensors()?, root.buffers()?),
            operators: sg.operators()?,
            opcodes: root.operator_codes()?,
            inputs: sg.inputs()?,
            outputs: sg.outputs()?,
            header_bytes: 0,
            activation_bytes: 0,
            macs: 0,
        };
        model.validate().map_err(|f| model.resolve(f))?;
        Ok(model)
    }

    /// The rest of [`Self::parse`]: limits, operators, records (counted) and plan.
    fn validate(&mut self) -> Load<()> {
        if self.tensors.len() > MAX_TENSORS {
            return Err(fault!(Limit("more than 256 tensors")));
        }
        if self.operators.len() > usize::from(u16::MAX) {
            return Err(fault!(Limit("more than 65535 operators")));
        }
        // Report unsupported operators by name before looking at anything else.
        for i in 0..self.operators.len() {
            self.op_kind(i)?;
        }
        let mut w = Writer::counting();
        let mut macs = 0u64;
        self.write_header(&mut w, &|_| Ok(0))?;
        for i in 0..self.operators.len() {
            macs = macs.saturating_add(self.write_op(i, &mut w, &|_| Ok(0), 0)?);
        }
        self.header_bytes = planner::align(w.pos()).ok_or(fault!(Limit("header")))?;
        let mut offsets = [0u32; MAX_TENSORS];
        self.activation_bytes = self.plan(&mut offsets)?;
        self.macs = macs;
        Ok(())
    }

    /// The [`Error`] for a fault of this model's loading code (operators named).
    pub(crate) fn resolve(&self, f: Fault) -> Error {
        f.resolve(&|i| {
            let (code, version) = self.op_code(i).ok()?;
            Some((op_name(code), code, version))
        })
    }

    /// Exact number of arena bytes [`Interpreter::new`](crate::Interpreter::new) needs.
    pub fn arena_size(&self) -> usize {
        self.header_bytes + self.activation_bytes
    }

    /// Bytes of the arena that hold intermediate tensors (the planned part).
    pub fn activation_bytes(&self) -> usize {
        self.activation_bytes
    }

    /// Multiply-accumulates per inference (convolutions and fully-connected layers).
    pub fn macs(&self) -> u64 {
        self.macs
    }

    /// Number of operators.
    pub fn operator_count(&self) -> usize {
        self.operators.len()
    }

    /// Number of tensors.
    pub fn tensor_count(&self) -> usize {
        self.tensors.len()
    }

    /// Number of subgraph inputs.
    pub fn input_count(&self) -> usize {
        self.inputs.len()
    }

    /// Number of subgraph outputs.
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }

    /// Tensor index of subgraph input `i`.
    pub fn input_tensor(&self, i: usize) -> Result<usize> {
        let t = self.inputs.get(i).map_err(|_| Error::NoSuchTensor(i))?;
        Ok(self.tensor_index(t)?)
    }

    /// Tensor index of subgraph output `i`.
    pub fn output_tensor(&self, i: usize) -> Result<usize> {
        let t = self.outputs.get(i).map_err(|_| Error::NoSuchTensor(i))?;
        Ok(self.tensor_index(t)?)
    }

    /// The model bytes (constant tensors are read from here).
    pub(crate) fn data(&self) -> &'m [u8] {
        self.tensors.data
    }

    /// Reads tensor `t` (a model tensor index).
    pub(crate) fn tensor_info(&self, t: i32) -> Load<TensorInfo<'m>> {
        self.tensors.info(self.tensor_index(t)?)
    }

    pub(crate) fn tensor_index(&self, t: i32) -> Load<usize> {
        self.tensors.index(t)
    }

    /// Builtin code and version of operator `i`.
    pub(crate) fn op_code(&self, i: usize) -> Load<(i32, i32)> {
        let op = OperatorT(self.operators.get(i)?);
        let code = self.opcodes.get(op.opcode_index()? as usize)?;
        operator_code(&code)
    }

    /// Scratch bytes operator `i` needs while it runs (CONV_2D's widened input
    /// patches); the planner places them like a tensor that lives for that operator.
    pub(crate) fn scratch_bytes(&self, i: usize) -> Load<usize> {
        if self.op_kind(i)? != Kind::Conv2d {
            return Ok(0);
        }
        let ins = OperatorT(self.operators.get(i)?).inputs()?;
        if ins.len() < 2 {
            return Ok(0);
        }
        let filter = self.tensor_info(ins.get(1)?)?;
        if filter.rank != 4 {
            return Ok(0); // prepare rejects it
        }
        let k = filter.dims[1..4]
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(usize::try_from(d).ok()?))
            .ok_or(fault!(Limit("filter size")))?;
        crate::kernels::im2col::scratch_bytes(k).ok_or(fault!(Limit("filter size")))
    }

    /// The engine kind of operator `i`, or `UnsupportedOp`.
    pub(crate) fn op_kind(&self, i: usize) -> Load<Kind> {
        let (code, version) = self.op_code(i)?;
        Kind::from_code(code, version).ok_or(Fault::unsupported_op(i))
    }

    /// Where tensor `t` lives, given the planned activation offsets.
    pub(crate) fn loc(&self, t: &TensorInfo<'m>, offset: u32) -> Loc {
        match t.data {
            Some(_) => Loc {
                start: t.data_offset as u32,
                len: t.bytes as u32,
                constant: true,
            },
            None => Loc {
                start: offset,
                len: t.bytes as u32,
                constant: false,
            },
        }
    }

    /// Writes the compiled header ([`Self::header_bytes`] long): the I/O table and
    /// every operator's prepared record, with activation offsets from the planner.
    pub(crate) fn compile_header(&self, header: &mut [u8]) -> Load<()> {
        let mut offsets = [0u32; MAX_TENSORS];
        self.plan(&mut offsets)?;
        let offset = |t: usize| {
            offsets
                .get(t)
                .copied()
                .ok_or(fault!(Malformed("tensor index")))
        };
        let mut w = Writer::into(header);
        self.write_header(&mut w, &offset)?;
        // Scratch buffers were planned after the tensors, in operator order.
        let mut slot = self.tensor_count();
        for i in 0..self.operator_count() {
            let mut scratch_at = 0;
            if self.scratch_bytes(i)? > 0 {
                scratch_at = offset(slot)?;
                slot += 1;
            }
            self.write_op(i, &mut w, &offset, scratch_at)?;
        }
        Ok(())
    }

    /// Writes the I/O table: counts, then the location of every input and output.
    pub(crate) fn write_header(
        &self,
        w: &mut Writer<'_>,
        offset: &dyn Fn(usize) -> Load<u32>,
    ) -> Load<()> {
        w.push_all(&[self.inputs.len() as i32, self.outputs.len() as i32])?;
        for list in [self.inputs, self.outputs] {
            for i in 0..list.len() {
                let t = self.tensor_info(list.get(i)?)?;
                if t.data.is_some() {
                    return Err(fault!(Malformed("subgraph input/output is a constant")));
                }
                self.loc(&t, offset(t.index)?).write(w)?;
            }
        }
        Ok(())
    }

    /// Writes the record of operator `i` and returns its MAC count; `scratch_at` is
    /// the planned offset of its scratch buffer (if [`Self::scratch_bytes`] is not 0).
    pub(crate) fn write_op(
        &self,
        i: usize,
        w: &mut Writer<'_>,
        offset: &dyn Fn(usize) -> Load<u32>,
        scratch_at: u32,
    ) -> Load<u64> {
        let kind = self.op_kind(i)?;
        let op = OperatorT(self.operators.get(i)?);
        let bad = Fault::bad_shape(i);
        let (ins, outs) = (op.inputs()?, op.outputs()?);
        if outs.len() != 1 {
            return Err(bad);
        }
        if ins.len() > MAX_INPUTS {
            return Err(fault!(Limit("more than 8 operator inputs")));
        }
        let start = w.pos();
        // Kind, record length (patched below), number of inputs.
        w.push_all(&[kind as i32, 0, ins.len() as i32])?;
        let mut inputs = [None; MAX_INPUTS];
        for (k, slot) in inputs.iter_mut().enumerate().take(ins.len()) {
            let t = ins.get(k)?;
            if t < 0 {
                Loc {
                    start: 0,
                    len: 0,
                    constant: true,
                }
                .write(w)?;
            } else {
                let info = self.tensor_info(t)?;
                self.loc(&info, offset(info.index)?).write(w)?;
                *slot = Some(info);
            }
        }
        let out = self.tensor_info(outs.get(0)?)?;
        if out.data.is_some() {
            return Err(bad);
        }
        self.loc(&out, offset(out.index)?).write(w)?;
        let scratch = self.scratch_bytes(i)?;
        Loc {
            start: if scratch > 0 { scratch_at } else { 0 },
            len: u32::try_from(scratch).map_err(|_| fault!(Limit("scratch size")))?,
            constant: false,
        }
        .write(w)?;
        let ctx = OpCtx {
            index: i,
            inputs,
            n_inputs: ins.len(),
            output: out,
            options: op.options()?,
        };
        let macs = ops::prepare(kind, &ctx, w)?;
        let len = (w.pos() - start) / 4;
        w.patch(start + 4, len as i32)?;
        Ok(macs)
    }

    /// Runs the greedy planner over every non-constant tensor; fills `offsets` and
    /// returns the planned bytes.
    pub(crate) fn plan(&self, offsets: &mut [u32; MAX_TENSORS]) -> Load<usize> {
        const UNSET: u16 = u16::MAX;
        let mut reqs = [Request {
            size: 0,
            first: UNSET,
            last: 0,
        }; MAX_TENSORS];
        let n_ops = self.operators.len();
        let last_op = n_ops.saturating_sub(1) as u16;
        let mut produced = [false; MAX_TENSORS];
        for (is_input, list) in [(true, self.inputs), (false, self.outputs)] {
            for i in 0..list.len() {
                let t = self.tensor_index(list.get(i)?)?;
                self.request(&mut reqs[t], t)?;
                if is_input {
                    reqs[t].first = 0;
                    produced[t] = true;
                }
            }
        }
        for i in 0..n_ops {
            let op = OperatorT(self.operators.get(i)?);
            let (ins, outs) = (op.inputs()?, op.outputs()?);
            for k in 0..ins.len() {
                let t = ins.get(k)?;
                if t < 0 {
                    continue;
                }
                let t = self.tensor_index(t)?;
                if self.request(&mut reqs[t], t)? {
                    if !produced[t] {
                        return Err(fault!(Malformed("tensor read before it is written")));
                    }
                    reqs[t].last = reqs[t].last.max(i as u16);
                }
            }
            for k in 0..outs.len() {
                let t = self.tensor_index(outs.get(k)?)?;
                if self.request(&mut reqs[t], t)? {
                    if produced[t] {
                        return Err(fault!(Malformed("tensor written twice")));
                    }
                    produced[t] = true;
                    reqs[t].first = reqs[t].first.min(i as u16);
                    reqs[t].last = reqs[t].last.max(i as u16);
                }
            }
        }
        for i in 0..self.outputs.len() {
            let t = self.tensor_index(self.outputs.get(i)?)?;
            if !produced[t] {
                return Err(fault!(Malformed("subgraph output is never written")));
            }
            reqs[t].last = last_op;
        }
        for r in reqs.iter_mut() {
            if r.first == UNSET {
                r.first = 0;
            }
        }
        // One scratch request per operator that needs one, after the tensors.
        let mut n = self.tensors.len();
        for i in 0..n_ops {
            let bytes = self.scratch_bytes(i)?;
            if bytes == 0 {
                continue;
            }
            let size = planner::align(bytes).ok_or(fault!(Limit("scratch size")))?;
            *reqs
                .get_mut(n)
                .ok_or(fault!(Limit("tensors plus scratch buffers")))? = Request {
                size: u32::try_from(size).map_err(|_| fault!(Limit("scratch size")))?,
                first: i as u16,
                last: i as u16,
            };
            n += 1;
        }
        let mut placed = [false; MAX_TENSORS];
        planner::plan(&reqs[..n], &mut offsets[..n], &mut placed[..n])
    }

    /// Sets the planner request of tensor `t` (once); returns whether it needs arena.
    fn request(&self, r: &mut Request, t: usize) -> Load<bool> {
        let info = self.tensors.info(t)?;
        if info.data.is_some() {
            return Ok(false);
        }
        let size = planner::align(info.bytes).ok_or(fault!(Limit("tensor size")))?;
        r.size = u32::try_from(size).map_err(|_| fault!(Limit("tensor size")))?;
        Ok(true)
    }
}
