// The PyTorch parity checks, one function per fixture kind (test/fixtures/pytorch/README.md).
// Each throws on the first tensor that disagrees, naming it and its max abs diff.

import {
  CELL_NAMES,
  CELLS,
  clipGradNorm,
  createRecurrent,
  FeedForwardLM,
  LanguageModel,
  LrSchedule,
  OPTIMIZER_NAMES,
  OPTIMIZERS,
  singleNeuron,
  tensor,
  TruncatedBPTT,
  RNNCell,
  LSTMCell,
  GRUCell,
  packPaddedSequence,
  padPackedSequence,
  padSequence,
  packSequence,
  type PackedSequence,
  type Float,
  type Tensor,
  type ScheduleSpec,
  type DType,
  type Kernels,
  type Optimizer,
  type ParamStore,
  type Recurrent,
} from "../../src/index.js";
import { buf, expectClose, expectCloseScalar, ids, tolerance, type FixtureTensor } from "../helpers/fixtures.js";
import { WeightedSumRNN } from "../helpers/weighted-sum-rnn.js";

// biome-ignore lint/suspicious/noExplicitAny: fixtures are JSON of many kinds, read field by field
type Fx = Record<string, any>;

/** The cells rnnlab has, by PyTorch's class name (nn/cells.ts). */
const CELL_OF = Object.fromEntries(CELL_NAMES.map((c) => [CELLS[c].pytorch, c]));

/** Why a fixture cannot run (a cell type or option rnnlab does not have), or null when it can. */
export function notImplemented(fx: Fx): string | null {
  const cell = fx.kind === "charlm" ? fx.model?.cell : fx.module?.type;
  if ((fx.kind === "recurrent" || fx.kind === "tbptt" || fx.kind === "charlm") && !(cell in CELL_OF)) {
    return `${fx.kind} with cell ${cell}`;
  }
  if (fx.module?.dropout > 0 && fx.module?.mode !== "eval") return "dropout in training mode (PyTorch's own random masks)";
  const lmDropout = fx.kind === "charlm" && [fx.model?.dropout, fx.model?.embedding_dropout, fx.model?.output_dropout].some((p) => p > 0);
  if (lmDropout && fx.model?.mode !== "eval") return "language-model dropout in training mode (PyTorch's own random masks)";
  return null;
}

/** Runs one fixture at one dtype with one kernel set; throws on disagreement or on an unknown kind. */
export function runFixture(fx: Fx, dtype: DType, kernels?: Kernels): void {
  switch (fx.kind) {
    case "recurrent":
      return recurrent(fx, dtype, kernels);
    case "clip_grad_norm":
      return clipFixture(fx, dtype);
    case "tbptt":
      return tbptt(fx, dtype, kernels);
    case "charlm":
      return charlm(fx, dtype, kernels);
    case "ffnlm":
      return feedforwardLM(fx, dtype, kernels);
    case "single_neuron":
      return singleNeuronFixture(fx, dtype);
    case "lr_schedule":
      return lrScheduleFixture(fx);
    case "cell":
      return cellFixture(fx, dtype, kernels);
    case "pack":
      return packFixture(fx, dtype);
    default:
      throw new Error(`unknown fixture kind "${fx.kind}"`);
  }
}

/** On the wasm kernels, a float32 model's parameters must live in their memory, or the run would test the fallback. */
function assertPlaced(store: ParamStore, kernels?: Kernels): void {
  const arena = (kernels as { arena?: { holds(x: ArrayBufferView): boolean } } | undefined)?.arena;
  if (arena && store.dtype === "float32" && !arena.holds(store.values)) throw new Error("the parameters are not in the WebAssembly memory");
}

function loadParams(store: ParamStore, params: Record<string, FixtureTensor>): void {
  const have = store.params.map((p) => p.name).sort();
  const want = Object.keys(params).sort();
  if (have.join() !== want.join()) throw new Error(`parameter names differ: rnnlab [${have}] vs fixture [${want}]`);
  for (const [name, t] of Object.entries(params)) {
    const p = store.get(name);
    if (p.shape.join() !== t.shape.join()) throw new Error(`${name}: shape [${p.shape}] vs fixture [${t.shape}]`);
    p.value.set(t.data);
  }
}

function rnnOf(module: Fx, dtype: DType, kernels?: Kernels): Recurrent {
  const o = {
    inputSize: module.input_size,
    hiddenSize: module.hidden_size,
    numLayers: module.num_layers ?? 1,
    bias: module.bias ?? true,
    bidirectional: module.bidirectional ?? false,
    dropout: module.dropout ?? 0,
    batchFirst: module.batch_first ?? false,
    projSize: module.proj_size ?? 0,
    dtype,
    kernels,
  };
  const m = createRecurrent(CELL_OF[module.type], { ...o, nonlinearity: module.nonlinearity ?? "tanh" });
  if (module.mode === "eval") m.eval();
  return m;
}

function recurrent(fx: Fx, dtype: DType, kernels?: Kernels): void {
  const tol = tolerance(dtype);
  const rnn = rnnOf(fx.module, dtype, kernels);
  assertPlaced(rnn.store, kernels);
  loadParams(rnn.store, fx.params);
  const t = (f: FixtureTensor) => tensor(f.data, f.shape, dtype);
  const { x, h0, c0, lengths: lens } = fx.inputs as Record<string, FixtureTensor>;
  const lengths = lens ? (Array.isArray(lens) ? lens : lens.data) : undefined;
  const hx = rnn.mode === "LSTM" ? [t(h0), t(c0)] : t(h0);
  const Ro = buf(fx.loss.R_out, dtype);
  const Rh = buf(fx.loss.R_h, dtype);
  const Rc = fx.loss.R_c ? buf(fx.loss.R_c, dtype) : null;
  // the padded input with its lengths (as the fixture has it: (T, B, I), (B, T, I) with batch_first, or unbatched (T, I))
  const c = rnn.forward(t(x), hx, { lengths });
  if (c.output.shape.join() !== fx.outputs.output.shape.join()) throw new Error(`output shape [${c.output.shape}] vs fixture [${fx.outputs.output.shape}]`);
  if (c.hNTensor.shape.join() !== fx.outputs.h_n.shape.join()) throw new Error(`h_n shape [${c.hNTensor.shape}] vs fixture [${fx.outputs.h_n.shape}]`);
  expectClose("output", c.output.data, fx.outputs.output.data, tol);
  expectClose("h_n", c.hN, fx.outputs.h_n.data, tol);
  if (fx.outputs.c_n) expectClose("c_n", c.cN!, fx.outputs.c_n.data, tol);
  let loss = 0;
  for (let i = 0; i < Ro.length; i++) loss += c.output.data[i] * Ro[i];
  for (let i = 0; i < Rh.length; i++) loss += c.hN[i] * Rh[i];
  if (Rc) for (let i = 0; i < Rc.length; i++) loss += c.cN![i] * Rc[i];
  expectCloseScalar("loss", loss, fx.loss.value, tol);
  rnn.store.zeroGrad();
  const { dx, dh0, dc0 } = rnn.backward(c, Ro, Rh, Rc);
  if (dx.shape.join() !== fx.grads.x.shape.join()) throw new Error(`grad x shape [${dx.shape}] vs fixture [${fx.grads.x.shape}]`);
  for (const [name, g] of Object.entries(fx.grads as Record<string, FixtureTensor>)) {
    const actual = name === "x" ? dx.data : name === "h0" ? dh0.data : name === "c0" ? dc0!.data : rnn.store.get(name).grad;
    expectClose(`grad ${name}`, actual, g.data, tol);
  }
  if (lengths) recurrentPacked(fx, rnn, t(x), hx, lengths, Ro, Rh, Rc, dtype);
}

/**
 * The same fixture through PyTorch's other road: pack the padded input (packPaddedSequence,
 * enforceSorted false), run the layer on the PackedSequence, compare its packed output with
 * PyTorch's (when the fixture has it) and, unpacked, with the padded output; back from the
 * packed output's gradient (the packed R_out) to the packed input's gradient, unpacked.
 */
function recurrentPacked(
  fx: Fx,
  rnn: Recurrent,
  x: Tensor,
  hx: Tensor | Tensor[],
  lengths: number[],
  Ro: Float,
  Rh: Float,
  Rc: Float | null,
  dtype: DType,
): void {
  const tol = tolerance(dtype);
  const batchFirst = fx.module.batch_first ?? false;
  const T = fx.outputs.output.shape[batchFirst ? 1 : 0];
  const packed = packPaddedSequence(x, lengths, { batchFirst, enforceSorted: false });
  const c = rnn.forward(packed, hx);
  const po = c.packedOutput!;
  const want = fx.outputs.output_packed;
  if (want) {
    expectClose("packed output data", po.data.data, want.data.data, tol);
    expectClose("packed output batch_sizes", po.batchSizes, want.batch_sizes, 0);
    expectClose("packed output sorted_indices", po.sortedIndices!, want.sorted_indices, 0);
    expectClose("packed output unsorted_indices", po.unsortedIndices!, want.unsorted_indices, 0);
  }
  const { output } = padPackedSequence(po, { batchFirst, totalLength: T });
  expectClose("packed: output", output.data, fx.outputs.output.data, tol);
  expectClose("packed: h_n", c.hN, fx.outputs.h_n.data, tol);
  if (fx.outputs.c_n) expectClose("packed: c_n", c.cN!, fx.outputs.c_n.data, tol);
  rnn.store.zeroGrad();
  const dOut = packPaddedSequence({ data: Ro, shape: fx.outputs.output.shape }, lengths, { batchFirst, enforceSorted: false });
  const { dx, dh0, dc0 } = rnn.backward(c, dOut.data, Rh, Rc);
  const dxPadded = padPackedSequence({ ...packed, data: dx }, { batchFirst, totalLength: T }).output;
  for (const [name, g] of Object.entries(fx.grads as Record<string, FixtureTensor>)) {
    const actual = name === "x" ? dxPadded.data : name === "h0" ? dh0.data : name === "c0" ? dc0!.data : rnn.store.get(name).grad;
    expectClose(`packed: grad ${name}`, actual, g.data, tol);
  }
}

/** A single-step cell (RNNCell, LSTMCell, GRUCell) stepped over x's steps, one cache per step, and back through them in reverse. */
function cellFixture(fx: Fx, dtype: DType, kernels?: Kernels): void {
  const tol = tolerance(dtype);
  const m = fx.module;
  const o = { inputSize: m.input_size, hiddenSize: m.hidden_size, bias: m.bias ?? true, dtype, kernels };
  const cell =
    m.type === "RNNCell"
      ? new RNNCell({ ...o, nonlinearity: m.nonlinearity ?? "tanh" })
      : m.type === "LSTMCell"
        ? new LSTMCell(o)
        : m.type === "GRUCell"
          ? new GRUCell(o)
          : null;
  if (!cell) throw new Error(`cell fixture: unknown cell ${m.type}`);
  assertPlaced(cell.store, kernels);
  loadParams(cell.store, fx.params);
  const { x, h0, c0 } = fx.inputs as Record<string, FixtureTensor>;
  const unbatched = x.shape.length === 2;
  const [T] = x.shape;
  const B = unbatched ? 1 : x.shape[1];
  const I = m.input_size;
  const H = m.hidden_size;
  const step = (xb: Float, t: number): Tensor => ({ data: xb.subarray(t * B * I, (t + 1) * B * I), shape: unbatched ? [I] : [B, I] });
  const xs = buf(x, dtype);
  const caches = Array.from({ length: T }, () => cell.createCache(B));
  const hs = new Float64Array(T * B * H);
  const cs = new Float64Array(T * B * H);
  let h: Tensor | null = h0 ? tensor(h0.data, h0.shape, dtype) : null;
  let c: Tensor | null = c0 ? tensor(c0.data, c0.shape, dtype) : null;
  for (let t = 0; t < T; t++) {
    if (cell instanceof LSTMCell) {
      [h, c] = cell.forward(step(xs, t), h && c ? [h, c] : null, caches[t]);
      cs.set(c.data, t * B * H);
    } else {
      h = (cell as RNNCell | GRUCell).forward(step(xs, t), h, caches[t]);
    }
    if (h.shape.join() !== (unbatched ? [H] : [B, H]).join()) throw new Error(`h' has shape [${h.shape}]`);
    hs.set(h.data, t * B * H);
  }
  expectClose("h", hs, fx.outputs.h.data, tol);
  if (fx.outputs.c) expectClose("c", cs, fx.outputs.c.data, tol);
  const Rh = buf(fx.loss.R_h, dtype);
  const Rc = fx.loss.R_c ? buf(fx.loss.R_c, dtype) : null;
  let loss = 0;
  for (let i = 0; i < Rh.length; i++) loss += hs[i] * Rh[i];
  if (Rc) for (let i = 0; i < Rc.length; i++) loss += cs[i] * Rc[i];
  expectCloseScalar("loss", loss, fx.loss.value, tol);
  // backward through the steps in reverse: dh_t = R_h[t] + what step t+1 sent back
  cell.store.zeroGrad();
  const dx = new Float64Array(T * B * I);
  const dh = Rh.slice(0, B * H).fill(0);
  const dc = Rh.slice(0, B * H).fill(0);
  let dhx: Float | null = null;
  let dcx: Float | null = null;
  for (let t = T - 1; t >= 0; t--) {
    for (let i = 0; i < B * H; i++) {
      dh[i] = Rh[t * B * H + i] + (dhx ? dhx[i] : 0);
      dc[i] = (Rc ? Rc[t * B * H + i] : 0) + (dcx ? dcx[i] : 0);
    }
    const g = cell instanceof LSTMCell ? cell.backward(caches[t], dh, dc) : (cell as RNNCell | GRUCell).backward(caches[t], dh);
    if (g.dx.shape.join() !== (unbatched ? [I] : [B, I]).join()) throw new Error(`dx has shape [${g.dx.shape}]`);
    dx.set(g.dx.data, t * B * I);
    dhx = g.dhx.data;
    dcx = g.dcx ? g.dcx.data : null;
  }
  for (const [name, g] of Object.entries(fx.grads as Record<string, FixtureTensor>)) {
    const actual = name === "x" ? dx : name === "h0" ? dhx! : name === "c0" ? dcx! : cell.store.get(name).grad;
    expectClose(`grad ${name}`, actual, g.data, tol);
  }
}

/** torch.nn.utils.rnn's helpers: each case's op on its arguments must give PyTorch's result (shapes, values, indices). */
function packFixture(fx: Fx, dtype: DType): void {
  const tol = tolerance(dtype);
  const t = (f: FixtureTensor) => tensor(f.data, f.shape, dtype);
  const sameShape = (what: string, a: readonly number[], b: readonly number[]) => {
    if (a.join() !== b.join()) throw new Error(`${what}: shape [${a}] vs PyTorch's [${b}]`);
  };
  const checkPacked = (what: string, p: PackedSequence, want: Fx) => {
    sameShape(`${what} data`, p.data.shape, want.data.shape);
    expectClose(`${what} data`, p.data.data, want.data.data, tol);
    expectClose(`${what} batch_sizes`, p.batchSizes, want.batch_sizes, 0);
    for (const [k, w] of [
      ["sorted_indices", want.sorted_indices],
      ["unsorted_indices", want.unsorted_indices],
    ] as const) {
      const got = k === "sorted_indices" ? p.sortedIndices : p.unsortedIndices;
      if ((got === null) !== (w === null)) throw new Error(`${what} ${k}: ${got === null ? "null" : "given"}, PyTorch's ${w === null ? "null" : "given"}`);
      if (got) expectClose(`${what} ${k}`, got, w, 0);
    }
  };
  const packedOf = (w: Fx): PackedSequence => ({
    data: t(w.data),
    batchSizes: Int32Array.from(w.batch_sizes),
    sortedIndices: w.sorted_indices ? Int32Array.from(w.sorted_indices) : null,
    unsortedIndices: w.unsorted_indices ? Int32Array.from(w.unsorted_indices) : null,
  });
  for (const [i, cs] of (fx.cases as Fx[]).entries()) {
    const at = `case ${i} (${cs.op})`;
    switch (cs.op) {
      case "pack_padded_sequence":
        checkPacked(at, packPaddedSequence(t(cs.input), cs.lengths, { batchFirst: cs.batch_first, enforceSorted: cs.enforce_sorted }), cs.expected);
        break;
      case "pad_packed_sequence": {
        const r = padPackedSequence(packedOf(cs.packed), {
          batchFirst: cs.batch_first,
          paddingValue: cs.padding_value,
          totalLength: cs.total_length ?? undefined,
        });
        sameShape(at, r.output.shape, cs.expected.output.shape);
        expectClose(`${at} output`, r.output.data, cs.expected.output.data, tol);
        expectClose(`${at} lengths`, r.lengths, cs.expected.lengths, 0);
        break;
      }
      case "pad_sequence": {
        const r = padSequence((cs.sequences as FixtureTensor[]).map(t), { batchFirst: cs.batch_first, paddingValue: cs.padding_value });
        sameShape(at, r.shape, cs.expected.shape);
        expectClose(at, r.data, cs.expected.data, tol);
        break;
      }
      case "pack_sequence":
        checkPacked(at, packSequence((cs.sequences as FixtureTensor[]).map(t), { enforceSorted: cs.enforce_sorted }), cs.expected);
        break;
      default:
        throw new Error(`pack fixture: unknown op ${cs.op}`);
    }
  }
}

function clipFixture(fx: Fx, dtype: DType): void {
  const tol = tolerance(dtype);
  const grads = (fx.grads_before as FixtureTensor[]).map((t) => buf(t, dtype));
  const normType = fx.norm_type === "inf" ? Infinity : Number(fx.norm_type);
  const total = clipGradNorm(grads, fx.max_norm, normType);
  expectCloseScalar("total_norm", total, fx.total_norm, tol);
  (fx.grads_after as FixtureTensor[]).forEach((t, i) => expectClose(`grads_after[${i}]`, grads[i], t.data, tol));
}

function tbptt(fx: Fx, dtype: DType, kernels?: Kernels): void {
  const tol = tolerance(dtype);
  const model = new WeightedSumRNN({
    cell: fx.module.type,
    inputSize: fx.module.input_size,
    hiddenSize: fx.module.hidden_size,
    numLayers: fx.module.num_layers ?? 1,
    ...(fx.module.type === "RNN" ? { nonlinearity: fx.module.nonlinearity ?? "tanh" } : {}), // LSTM and GRU take no nonlinearity
    bias: fx.module.bias ?? true,
    dtype,
    kernels,
  });
  loadParams(model.store, fx.params);
  const [, B, I] = fx.x.shape as number[];
  const H = fx.module.hidden_size;
  const x = buf(fx.x, dtype);
  const R = buf(fx.R, dtype);
  const tb = new TruncatedBPTT(model, { k1: fx.k1, k2: fx.k2, batch: B });
  if (fx.h_start !== "zeros") tb.state[0].set((fx.h_start as FixtureTensor).data);
  if (fx.c_start && fx.c_start !== "zeros") tb.state[1].set((fx.c_start as FixtureTensor).data);
  let expectedStart = 0;
  for (const [i, ch] of (fx.chunks as Fx[]).entries()) {
    if (ch.start !== expectedStart) throw new Error(`chunk ${i} starts at ${ch.start}, expected consecutive chunks`);
    expectedStart += ch.length;
    model.store.zeroGrad();
    const xs = x.subarray(ch.start * B * I, (ch.start + ch.length) * B * I);
    const Rs = R.subarray(ch.start * B * H, (ch.start + ch.length) * B * H);
    const loss = tb.step(xs, Rs, ch.length);
    expectCloseScalar(`chunk ${i} loss`, loss, ch.loss, tol);
    for (const [name, g] of Object.entries(ch.grads as Record<string, FixtureTensor>)) {
      expectClose(`chunk ${i} grad ${name}`, model.store.get(name).grad, g.data, tol);
    }
  }
}

/** The optimizer a fixture names ("adam", "sgd_nesterov", ...), from the registry, with PyTorch's hyperparameters in rnnlab's names. */
function optimizerFor(key: string, store: ParamStore, h: Fx): Optimizer {
  const known = new Set([
    "lr",
    "betas",
    "eps",
    "momentum",
    "nesterov",
    "weight_decay",
    "dampening",
    "lr_decay",
    "alpha",
    "centered",
    "amsgrad",
    "pre_clip_norms",
    "params_after_3_steps",
  ]);
  for (const k of Object.keys(h)) if (!known.has(k)) throw new Error(`optimizer ${key}: unknown hyperparameter "${k}"`);
  const name = OPTIMIZER_NAMES.find((n) => key === n || key.startsWith(`${n}_`));
  if (!name) throw new Error(`unknown optimizer "${key}" in fixture`);
  return OPTIMIZERS[name].create(store, {
    lr: h.lr,
    betas: h.betas,
    eps: h.eps,
    weightDecay: h.weight_decay,
    amsgrad: h.amsgrad,
    momentum: h.momentum,
    dampening: h.dampening,
    nesterov: h.nesterov,
    lrDecay: h.lr_decay,
    alpha: h.alpha,
    centered: h.centered,
  });
}

function charlm(fx: Fx, dtype: DType, kernels?: Kernels): void {
  // both ways to compute the first layer's input: embedding then projection, and the folded table
  for (const foldEmbedding of [false, true]) charlmOnce(fx, dtype, foldEmbedding, kernels);
}

function charlmOnce(fx: Fx, dtype: DType, foldEmbedding: boolean, kernels?: Kernels): void {
  const tol = tolerance(dtype);
  const m = fx.model;
  const lm = new LanguageModel({
    vocabSize: m.vocab,
    embedSize: m.embed,
    hiddenSize: m.hidden,
    numLayers: m.layers ?? m.num_layers ?? 1,
    nonlinearity: m.nonlinearity ?? "tanh",
    bias: m.bias ?? true,
    tieWeights: m.tied_embedding_and_head,
    // word_language_model's dropouts (inactive in eval mode, which such fixtures are in)
    dropout: m.dropout ?? 0,
    embeddingDropout: m.embedding_dropout ?? 0,
    outputDropout: m.output_dropout ?? 0,
    dtype,
    cell: CELL_OF[m.cell],
    kernels,
    foldEmbedding,
  });
  if (m.mode === "eval") lm.eval();
  const [T, B] = fx.tokens_in.shape as number[];
  const xin = ids(fx.tokens_in);
  const tgt = ids(fx.tokens_target);
  assertPlaced(lm.store, kernels);
  const run = () => lm.forward(xin, tgt, T, B, null, 0);
  loadParams(lm.store, fx.params);
  lm.store.zeroGrad();
  expectCloseScalar("loss", run(), fx.loss.value, tol);
  lm.backward();
  for (const [name, g] of Object.entries(fx.grads as Record<string, FixtureTensor>)) {
    expectClose(`grad ${name}`, lm.store.get(name).grad, g.data, tol);
  }
  optimizerRuns(fx, lm, run, tol);
}

/** A fixture's `optim`: each optimizer from the fixture's start, 3 clipped updates, the pre-clip norms and the parameters after. */
function optimizerRuns(fx: Fx, model: { store: ParamStore; backward(): void }, run: () => number, tol: number): void {
  const { clip_max_norm: clipMax, ...optims } = fx.optim as Fx;
  for (const [key, h] of Object.entries(optims as Record<string, Fx>)) {
    loadParams(model.store, fx.params);
    const opt = optimizerFor(key, model.store, h);
    for (let s = 0; s < h.pre_clip_norms.length; s++) {
      model.store.zeroGrad();
      run();
      model.backward();
      expectCloseScalar(`${key} step ${s + 1} pre-clip norm`, clipGradNorm(model.store, clipMax), h.pre_clip_norms[s], tol);
      opt.step();
    }
    for (const [name, t] of Object.entries(h.params_after_3_steps as Record<string, FixtureTensor>)) {
      expectClose(`${key}: ${name} after ${h.pre_clip_norms.length} steps`, model.store.get(name).value, t.data, tol);
    }
  }
}

/** Bengio et al.'s feed-forward language model (kind "ffnlm"): loss, gradients and 3 clipped updates per optimizer. */
function feedforwardLM(fx: Fx, dtype: DType, kernels?: Kernels): void {
  const tol = tolerance(dtype);
  const m = fx.model;
  const ff = new FeedForwardLM({
    vocabSize: m.vocab,
    embedSize: m.embed,
    hiddenSize: m.hidden,
    window: m.window,
    numLayers: m.layers ?? 1,
    direct: m.direct ?? false,
    nonlinearity: m.nonlinearity ?? "tanh",
    dtype,
    kernels,
  });
  const [T, B] = fx.tokens_in.shape as number[];
  const xin = ids(fx.tokens_in);
  const tgt = ids(fx.tokens_target);
  // the window before the chunk: ids + 1, 0 before the stream's start (-1 in the fixture)
  const state = ff.createState(B);
  (fx.context_in.data as number[]).forEach((id, i) => (state[0][i] = id + 1));
  assertPlaced(ff.store, kernels);
  const run = () => ff.forward(xin, tgt, T, B, state, 0);
  loadParams(ff.store, fx.params);
  ff.store.zeroGrad();
  expectCloseScalar("loss", run(), fx.loss.value, tol);
  ff.backward();
  for (const [name, g] of Object.entries(fx.grads as Record<string, FixtureTensor>)) expectClose(`grad ${name}`, ff.store.get(name).grad, g.data, tol);
  optimizerRuns(fx, ff, run, tol);
}

function singleNeuronFixture(fx: Fx, dtype: DType): void {
  const tol = tolerance(dtype);
  for (const p of fx.points as Fx[]) {
    const r = singleNeuron(p.w, p.b, { T: fx.T, x0: fx.x0, target: fx.target, dtype });
    const at = `(w=${p.w}, b=${p.b})`;
    expectCloseScalar(`x_T ${at}`, r.xT, p.x_T, tol);
    expectCloseScalar(`loss ${at}`, r.loss, p.loss, tol);
    expectCloseScalar(`dloss/dw ${at}`, r.dw, p.dloss_dw, tol);
    expectCloseScalar(`dloss/db ${at}`, r.db, p.dloss_db, tol);
  }
}

/** torch.optim.lr_scheduler's spec, in rnnlab's terms; the base rate (OneCycleLR's is its max_lr). */
function scheduleOf(fx: Fx): { spec: ScheduleSpec; base: number } {
  const s = fx.scheduler;
  switch (s.type) {
    case "StepLR":
      return { spec: { type: "step", stepSize: s.step_size, gamma: s.gamma }, base: fx.base_lr };
    case "ExponentialLR":
      return { spec: { type: "exponential", gamma: s.gamma }, base: fx.base_lr };
    case "CosineAnnealingLR":
      return { spec: { type: "cosine", tMax: s.T_max, etaMin: s.eta_min }, base: fx.base_lr };
    case "OneCycleLR":
      if (s.cycle_momentum) throw new Error("OneCycleLR with cycle_momentum: rnnlab cycles the rate only");
      return {
        spec: {
          type: "onecycle",
          totalSteps: s.total_steps,
          pctStart: s.pct_start,
          anneal: s.anneal_strategy,
          divFactor: s.div_factor,
          finalDivFactor: s.final_div_factor,
          threePhase: s.three_phase,
        },
        base: s.max_lr,
      };
    case "ReduceLROnPlateau":
      if (s.mode !== "min") throw new Error("ReduceLROnPlateau in mode max: rnnlab watches a loss");
      return {
        spec: {
          type: "plateau",
          factor: s.factor,
          patience: s.patience,
          threshold: s.threshold,
          thresholdMode: s.threshold_mode,
          cooldown: s.cooldown,
          minLr: s.min_lr,
          eps: s.eps,
        },
        base: fx.base_lr,
      };
    default:
      throw new Error(`lr_schedule: scheduler ${s.type} is not implemented`);
  }
}

/** The learning rate of every update, as PyTorch's scheduler gave it (float64 arithmetic whatever the model dtype). */
function lrScheduleFixture(fx: Fx): void {
  const { spec, base } = scheduleOf(fx);
  const sched = new LrSchedule(base, spec, fx.warmup ?? 0);
  const lrs = fx.lrs as number[];
  for (let i = 0; i < fx.steps; i++) {
    expectCloseScalar(`lr of update ${i + 1}`, sched.lr(i), lrs[i], 1e-12);
    const m = fx.metrics?.[i];
    if (m !== null && m !== undefined) sched.observe(m, i + 1);
  }
}
