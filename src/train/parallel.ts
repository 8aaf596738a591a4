// Data parallelism over batch rows, on threads that share one WebAssembly memory.
//
// A DataParallelLM is a SequenceModel like a LanguageModel, so truncated BPTT, the Trainer and
// evaluation drive it unchanged. Its batch rows are split into contiguous shards; the calling
// thread computes shard 0 and each worker thread one more, each with a LanguageModel of its own
// whose parameter values are the shared ones and whose gradients are its own. Commands and
// completions pass through Atomics on a control block in the shared memory, never messages, so
// a step costs two wake-ups per worker. The gradients are summed in shard order, always, so a
// given thread count gives the same numbers every run; with another count only the order of
// float32 additions differs. Dropout masks are a hash of the global row (recurrent.ts between the
// layers, language-model.ts on the embedding and the output), and their counters travel with each
// forward command, so they do not depend on the split either.
//
// No platform API here: the caller passes a `spawn` function that starts a worker running
// `runShardWorker` with the ShardInit (Node: io/threads.ts; a browser: a Web Worker).

import type { Float, Ids } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { LanguageModel, type LanguageModelOptions } from "../nn/language-model.js";
import type { ParamStore } from "../nn/params.js";
import type { SequenceModel } from "./tbptt.js";
import { MAX_THREADS } from "./memory.js";

const GEN = 0;
const OP = 1;
const STEPS = 2;
const LOSS_FROM = 3;
const AT = 4;
const HAS_STATE = 5;
const TRAINING = 6;
const DROPOUT_CALLS = 7;
const FAILED = 8;
const LM_DROPOUT_CALLS = 9; // the language model's embedding and output masks' counter
const DONE = 16; // + worker index
const READY = 48; // + worker index
const CTRL_INTS = 80; // DONE and READY hold a slot per worker: at most 32 (MAX_THREADS)

const FORWARD = 1;
const BACKWARD = 2;
const STATE_AT = 3;
const EXIT = 9;

/** Where a shard finds the shared buffers: byte offsets into the shared memory. */
export interface ShardLayout {
  ctrl: number;
  /** Float64 pairs per shard: (loss * count, count). */
  results: number;
  inputs: number;
  targets: number;
  /** Per state tensor (h, c): (L, B, H) float32. */
  state0: number[];
  stateOut: number[];
  /** The shared parameter values (P float32). */
  values: number;
  /** Per shard: its gradients (P float32). */
  grads: number[];
}

/** Everything a worker needs to build its shard. Structured-cloneable. */
export interface ShardInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  model: Omit<LanguageModelOptions, "kernels" | "dtype">;
  /** Shard index (1..N-1 for workers) and its rows [b0, b1) of batch B, windows of up to `capacity` steps. */
  shard: number;
  shards: number;
  b0: number;
  b1: number;
  B: number;
  capacity: number;
  paramCount: number;
  layout: ShardLayout;
}

/** Starts a worker thread that calls runShardWorker(init); returns a handle to stop it. */
export type Spawn = (init: ShardInit) => {
  /** Stops the thread. */
  terminate(): void;
};

interface Views {
  ctrl: Int32Array;
  results: Float64Array;
  inputs: Int32Array;
  targets: Int32Array;
  state0: Float32Array[];
  stateOut: Float32Array[];
}

function views(buffer: ArrayBufferLike, layout: ShardLayout, B: number, capacity: number, stateSize: number, shards: number): Views {
  return {
    ctrl: new Int32Array(buffer, layout.ctrl, CTRL_INTS),
    results: new Float64Array(buffer, layout.results, 2 * shards),
    inputs: new Int32Array(buffer, layout.inputs, capacity * B),
    targets: new Int32Array(buffer, layout.targets, capacity * B),
    state0: layout.state0.map((o) => new Float32Array(buffer, o, stateSize)),
    stateOut: layout.stateOut.map((o) => new Float32Array(buffer, o, stateSize)),
  };
}

/** One shard's work: rows [b0, b1) of every command, on a LanguageModel of its own. */
class Shard {
  private readonly Bw: number;
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;
  private readonly state: Float[];
  private count = 0;

  constructor(
    readonly lm: LanguageModel,
    readonly v: Views,
    readonly w: number,
    readonly b0: number,
    readonly b1: number,
    readonly B: number,
    capacity: number,
  ) {
    this.Bw = b1 - b0;
    this.inputs = new Int32Array(capacity * this.Bw);
    this.targets = new Int32Array(capacity * this.Bw);
    this.state = lm.createState(this.Bw);
    lm.rowOffset = b0; // dropout masks are keyed on global rows
  }

  private rowsOfState(from: Float32Array, to: Float, toB: number, fromB: number, fromRow: number, toRow: number, n: number): void {
    const H = this.lm.options.hiddenSize;
    const L = this.lm.options.numLayers;
    for (let l = 0; l < L; l++) to.set(from.subarray((l * fromB + fromRow) * H, (l * fromB + fromRow + n) * H), (l * toB + toRow) * H);
  }

  forward(): void {
    const { v, Bw, b0, B } = this;
    const T = v.ctrl[STEPS];
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < Bw; b++) {
        this.inputs[t * Bw + b] = v.inputs[t * B + b0 + b];
        this.targets[t * Bw + b] = v.targets[t * B + b0 + b];
      }
    }
    const hasState = v.ctrl[HAS_STATE] === 1;
    if (hasState) this.state.forEach((s, i) => this.rowsOfState(v.state0[i], s, Bw, B, b0, 0, Bw));
    this.lm.train(v.ctrl[TRAINING] === 1);
    this.lm.rnn.dropoutCalls = v.ctrl[DROPOUT_CALLS];
    this.lm.dropoutCalls = v.ctrl[LM_DROPOUT_CALLS];
    const lossFrom = v.ctrl[LOSS_FROM];
    const loss = this.lm.forward(this.inputs, this.targets, T, Bw, hasState ? this.state : null, lossFrom);
    this.count = (T - lossFrom) * Bw;
    for (let i = lossFrom * Bw; i < T * Bw; i++) if (this.targets[i] === -100) this.count--;
    v.results[2 * this.w] = this.count > 0 ? loss * this.count : 0;
    v.results[2 * this.w + 1] = this.count;
  }

  backward(shards: number): void {
    let total = 0;
    for (let s = 0; s < shards; s++) total += this.v.results[2 * s + 1];
    // each shard's loss is a mean over its own positions: weight it by its share of all of them
    this.lm.backward(total > 0 ? this.count / total : 0);
  }

  stateAt(): void {
    const t = this.v.ctrl[AT];
    this.lm.stateAt(t, this.state);
    this.state.forEach((s, i) => this.rowsOfState(s as Float32Array, this.v.stateOut[i], this.B, this.Bw, 0, this.b0, this.Bw));
  }
}

/** The worker side: build the shard, say ready, then serve commands until EXIT. Blocks its thread. */
export function runShardWorker(init: ShardInit, createKernels: (module: WebAssembly.Module, memory: WebAssembly.Memory) => Kernels | null): void {
  const ctrl = new Int32Array(init.memory.buffer, init.layout.ctrl, CTRL_INTS);
  let shard: Shard;
  let lm: LanguageModel;
  try {
    const k = createKernels(init.module, init.memory);
    if (!k) throw new Error("rnnlab: a worker could not instantiate the WebAssembly kernels");
    const buf = init.memory.buffer;
    lm = new LanguageModel({ ...init.model, kernels: k });
    lm.store.allocate({
      values: new Float32Array(buf, init.layout.values, init.paramCount),
      grads: new Float32Array(buf, init.layout.grads[init.shard], init.paramCount),
    });
    const stateSize = init.model.numLayers! * init.B * init.model.hiddenSize;
    const v = views(buf, init.layout, init.B, init.capacity, stateSize, init.shards);
    shard = new Shard(lm, v, init.shard, init.b0, init.b1, init.B, init.capacity);
  } catch (e) {
    Atomics.store(ctrl, READY + init.shard, -1); // the calling thread is blocked on this: tell it
    Atomics.notify(ctrl, READY + init.shard);
    throw e;
  }
  // read the generation before saying ready: the first command may follow at once
  let gen = Atomics.load(ctrl, GEN);
  Atomics.store(ctrl, READY + init.shard, 1);
  Atomics.notify(ctrl, READY + init.shard);
  for (;;) {
    Atomics.wait(ctrl, GEN, gen);
    gen = Atomics.load(ctrl, GEN);
    const op = ctrl[OP];
    if (op === EXIT) return;
    try {
      if (op === FORWARD) shard.forward();
      else if (op === BACKWARD) {
        lm.store.zeroGrad();
        shard.backward(init.shards);
      } else if (op === STATE_AT) shard.stateAt();
    } catch (e) {
      Atomics.store(ctrl, FAILED, 1);
      Atomics.store(ctrl, DONE + init.shard, gen);
      Atomics.notify(ctrl, DONE + init.shard);
      throw e;
    }
    Atomics.store(ctrl, DONE + init.shard, gen);
    Atomics.notify(ctrl, DONE + init.shard);
  }
}

/** What DataParallelLM needs of the WebAssembly side on the calling thread. */
export interface SharedMemoryKernels extends Kernels {
  /** The kernels' shared memory (tensor/wasm/arena.ts). */
  arena: {
    memory: WebAssembly.Memory;
    /** n float32 values in the shared memory. */
    f32(n: number): Float32Array;
    /** n int32 values in the shared memory. */
    i32(n: number): Int32Array;
    /** Whether a buffer lives in the shared memory. */
    holds(x: ArrayBufferView): boolean;
  };
}

/**
 * A LanguageModel's batch split over `threads` threads. `lm` is the model whose parameters are
 * trained (its values must live in the kernels' shared memory); `store` is its store, whose
 * gradients receive the sum of the shards'. Call `dispose()` to stop the workers.
 */
export class DataParallelLM implements SequenceModel<Ids, Ids> {
  readonly store: ParamStore;
  private readonly v: Views;
  private readonly shard0: Shard;
  private readonly grads: Float32Array[];
  private readonly workers: { terminate(): void }[] = [];
  private readonly k: Kernels;
  private gen = 0;
  private disposed = false;
  private up = false;

  /**
   * `waitForWorkers` (default true) blocks until every worker has built its shard. A browser
   * worker must not block while its nested Web Workers start (they start only when it yields to
   * its event loop): pass false there and `await started()` before the first step.
   */
  constructor(
    readonly lm: LanguageModel,
    readonly B: number,
    readonly capacity: number,
    readonly threads: number,
    k: SharedMemoryKernels,
    module: WebAssembly.Module,
    spawn: Spawn,
    waitForWorkers = true,
  ) {
    if (!(threads >= 2 && threads <= B && threads <= MAX_THREADS))
      throw new RangeError(`data parallelism: threads must be in [2, min(batch = ${B}, ${MAX_THREADS})], got ${threads}`);
    if (!k.arena.holds(lm.store.values)) throw new Error("data parallelism: the model's parameters must live in the WebAssembly memory");
    this.store = lm.store;
    this.k = k;
    const a = k.arena;
    const P = lm.store.size;
    const { numLayers: L, hiddenSize: H } = lm.options;
    const stateSize = L * B * H;
    const nStates = lm.rnn.stateCount;
    const f32 = (n: number) => a.f32(n).byteOffset;
    this.grads = Array.from({ length: threads }, () => a.f32(P));
    const layout: ShardLayout = {
      ctrl: a.i32(CTRL_INTS).byteOffset,
      results: a.f32(4 * threads).byteOffset, // 2 float64 per shard
      inputs: a.i32(capacity * B).byteOffset,
      targets: a.i32(capacity * B).byteOffset,
      state0: Array.from({ length: nStates }, () => f32(stateSize)),
      stateOut: Array.from({ length: nStates }, () => f32(stateSize)),
      values: lm.store.values.byteOffset,
      grads: this.grads.map((g) => g.byteOffset),
    };
    const buf = a.memory.buffer;
    this.v = views(buf, layout, B, capacity, stateSize, threads);
    // the rows of shard s: [bounds[s], bounds[s+1]), as even as possible
    const bounds = Array.from({ length: threads + 1 }, (_, s) => Math.round((s * B) / threads));
    const o = lm.options;
    // the model's options whole, but for what cannot cross to a thread (kernels) or is fixed (dtype)
    const { dtype: _dtype, ...model } = o;
    // shard 0 runs here, on a model of its own over the same values
    const lm0 = new LanguageModel({ ...model, kernels: k });
    lm0.store.allocate({ values: lm.store.values as Float32Array, grads: this.grads[0] });
    this.shard0 = new Shard(lm0, this.v, 0, bounds[0], bounds[1], B, capacity);
    for (let s = 1; s < threads; s++) {
      this.workers.push(
        spawn({
          module,
          memory: a.memory,
          model,
          shard: s,
          shards: threads,
          b0: bounds[s],
          b1: bounds[s + 1],
          B,
          capacity,
          paramCount: P,
          layout,
        }),
      );
    }
    if (waitForWorkers) this.waitForWorkers();
  }

  /** Blocks until every worker is ready (or throws when one failed to start). */
  private waitForWorkers(): void {
    for (let s = 1; s < this.threads; s++) {
      for (;;) {
        if (this.readyState(s)) break;
        Atomics.wait(this.v.ctrl, READY + s, 0, 1000);
      }
    }
    this.up = true;
  }

  /** Whether worker s is ready; throws when it failed to start. */
  private readyState(s: number): boolean {
    const r = Atomics.load(this.v.ctrl, READY + s);
    if (r === -1) {
      this.dispose();
      throw new Error(`data parallelism: worker ${s} failed to start`);
    }
    return r === 1;
  }

  /** Resolves when every worker is ready, without blocking the thread (polls every few ms). */
  async started(): Promise<void> {
    for (let s = 1; s < this.threads; s++) {
      while (!this.readyState(s)) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    this.up = true;
  }

  /** Sends a command to the workers, runs shard 0 here, and waits for every worker. */
  private command(op: number, here: () => void): void {
    if (this.disposed) throw new Error("DataParallelLM: disposed");
    if (!this.up) this.waitForWorkers();
    const c = this.v.ctrl;
    c[OP] = op;
    this.gen = (this.gen + 1) | 0;
    Atomics.store(c, GEN, this.gen);
    Atomics.notify(c, GEN);
    here();
    for (let s = 1; s < this.threads; s++) {
      for (;;) {
        const d = Atomics.load(c, DONE + s);
        if (d === this.gen) break;
        Atomics.wait(c, DONE + s, d);
      }
    }
    if (Atomics.load(c, FAILED)) {
      this.dispose();
      throw new Error("data parallelism: a worker failed (see its error above)");
    }
  }

  createState(B: number): Float[] {
    return this.lm.createState(B);
  }

  forward(inputs: Ids, targets: Ids, T: number, B: number, state0: Float[] | null, lossFrom: number): number {
    if (B !== this.B || T > this.capacity) throw new RangeError(`DataParallelLM: built for batch ${this.B} and up to ${this.capacity} steps, got ${B} x ${T}`);
    const v = this.v;
    v.inputs.set(inputs.subarray(0, T * B));
    v.targets.set(targets.subarray(0, T * B));
    if (state0) state0.forEach((s, i) => v.state0[i].set(s));
    const lm = this.lm;
    const rnn = lm.rnn;
    v.ctrl[STEPS] = T;
    v.ctrl[LOSS_FROM] = lossFrom;
    v.ctrl[HAS_STATE] = state0 ? 1 : 0;
    v.ctrl[TRAINING] = rnn.training ? 1 : 0;
    v.ctrl[DROPOUT_CALLS] = rnn.dropoutCalls;
    v.ctrl[LM_DROPOUT_CALLS] = lm.dropoutCalls;
    this.command(FORWARD, () => this.shard0.forward());
    // the shards drew their masks with this call's counters; advance them as one model would
    if (rnn.training && rnn.dropout > 0 && rnn.numLayers > 1) rnn.dropoutCalls++;
    if (lm.training && (lm.options.embeddingDropout > 0 || lm.options.outputDropout > 0)) lm.dropoutCalls++;
    let sum = 0;
    let count = 0;
    for (let s = 0; s < this.threads; s++) {
      sum += v.results[2 * s];
      count += v.results[2 * s + 1];
    }
    return sum / count;
  }

  backward(): void {
    this.command(BACKWARD, () => {
      this.grads[0].fill(0);
      this.shard0.backward(this.threads);
    });
    // the sum of the shards' gradients, always in shard order
    const g = this.store.grads;
    for (const gs of this.grads) this.k.axpy(g, 0, 1, gs, 0, g.length);
  }

  stateAt(t: number, into: Float[]): void {
    this.v.ctrl[AT] = t;
    this.command(STATE_AT, () => this.shard0.stateAt());
    into.forEach((s, i) => s.set(this.v.stateOut[i]));
  }

  /** Stops the worker threads. */
  dispose(): void {
    if (this.disposed) return;
    this.v.ctrl[OP] = EXIT;
    Atomics.store(this.v.ctrl, GEN, (this.gen + 1) | 0);
    Atomics.notify(this.v.ctrl, GEN);
    this.disposed = true;
    for (const w of this.workers) w.terminate();
  }
}
