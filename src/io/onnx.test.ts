// ONNX export checked against ONNX Runtime (onnxruntime-node, CPU): the exported graphs, run by an
// independent implementation of the ONNX RNN/LSTM/GRU operators, give rnnlab's own forward pass.
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { LanguageModel } from "../nn/language-model.js";
import { GRU, LSTM, RNN, type Recurrent, type RecurrentMode } from "../nn/recurrent.js";
import { Rng } from "../tensor/rng.js";
import { tensor } from "../tensor/tensor.js";
import { decodeOnnx, exportOnnx, exportRecurrentOnnx, ONNX_DEFAULT_OPSET } from "./onnx.js";

const TOL = 1e-5;
const measured: string[] = [];
afterAll(() => {
  // the measured agreement, for the record (vitest prints console output)
  console.log(`ONNX Runtime vs rnnlab, max |a - b| / max(1, |b|):\n${measured.join("\n")}`);
});

/** max |a - b| / max(1, |b|) over all elements; Infinity on a length mismatch. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    m = Math.max(m, Number.isNaN(d) ? Infinity : d);
  }
  return m;
}

function rand(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.uniformRange(-1, 1));
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run(feeds);
    const res: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
    for (const [k, v] of Object.entries(out)) res[k] = { data: v.data as Float32Array, dims: v.dims };
    return res;
  } finally {
    await session.release();
  }
}

function makeRecurrent(mode: RecurrentMode, o: { I: number; H: number; L: number; bidirectional: boolean; bias: boolean; seed: number }): Recurrent {
  const ro = { inputSize: o.I, hiddenSize: o.H, numLayers: o.L, bidirectional: o.bidirectional, bias: o.bias, seed: o.seed };
  if (mode === "LSTM") return new LSTM(ro);
  if (mode === "GRU") return new GRU(ro);
  return new RNN({ ...ro, nonlinearity: mode === "RNN_RELU" ? "relu" : "tanh" });
}

interface Graph {
  ir_version: number;
  producer_name: string;
  opset_import: { domain?: string; version: number }[];
  graph: {
    node: { op_type: string }[];
    initializer: { name: string; dims: number[]; data_type: number }[];
    input: { name: string; type: { tensor_type: { elem_type: number; shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[];
    output: { name: string; type: { tensor_type: { elem_type: number; shape: { dim: { dim_value?: number; dim_param?: string }[] } } } }[];
  };
}
const decode = (bytes: Uint8Array) => decodeOnnx(bytes) as unknown as Graph;
const shapeOf = (v: Graph["graph"]["input"][number]) => v.type.tensor_type.shape.dim.map((d) => d.dim_value ?? d.dim_param);

describe("exportRecurrentOnnx: ONNX Runtime gives rnnlab's output and final states", () => {
  const modes: RecurrentMode[] = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"];
  for (const mode of modes) {
    for (const L of [1, 2]) {
      for (const bidirectional of [false, true]) {
        for (const bias of [true, false]) {
          const label = `${mode} L=${L}${bidirectional ? " bidirectional" : ""}${bias ? "" : " no bias"}`;
          it(label, async () => {
            const T = 5,
              B = 3,
              I = 4,
              H = 6;
            const rnn = makeRecurrent(mode, { I, H, L, bidirectional, bias, seed: 7 + L });
            const D = rnn.numDirections;
            const rng = new Rng(3);
            const x = rand(rng, T * B * I);
            const h0 = rand(rng, L * D * B * H, 0.5);
            const c0 = rand(rng, L * D * B * H, 0.5);
            const lstm = mode === "LSTM";
            const c = rnn.forward(tensor(x, [T, B, I]), lstm ? [tensor(h0, [L * D, B, H]), tensor(c0, [L * D, B, H])] : tensor(h0, [L * D, B, H]));
            const bytes = exportRecurrentOnnx(rnn);
            const feeds: Record<string, ort.Tensor> = {
              x: new ort.Tensor("float32", x, [T, B, I]),
              h0: new ort.Tensor("float32", h0, [L * D, B, H]),
            };
            if (lstm) feeds.c0 = new ort.Tensor("float32", c0, [L * D, B, H]);
            const out = await run(bytes, feeds);
            expect(out.y.dims).toEqual([T, B, D * H]);
            expect(out.h_n.dims).toEqual([L * D, B, H]);
            const dy = maxDiff(out.y.data, c.output.data);
            const dh = maxDiff(out.h_n.data, c.hN);
            const dc = lstm ? maxDiff(out.c_n.data, c.cN!) : 0;
            measured.push(`  ${label}: y ${dy.toExponential(2)}, h_n ${dh.toExponential(2)}${lstm ? `, c_n ${dc.toExponential(2)}` : ""}`);
            expect(dy).toBeLessThanOrEqual(TOL);
            expect(dh).toBeLessThanOrEqual(TOL);
            expect(dc).toBeLessThanOrEqual(TOL);
            // the numbers are not trivially equal: the outputs move, and the states differ from h0
            expect(maxDiff(out.h_n.data, h0)).toBeGreaterThan(1e-3);
          });
        }
      }
    }
  }

  it("initialStates: false drops h0/c0 and starts from zeros", async () => {
    const T = 4,
      B = 2,
      I = 3,
      H = 5,
      L = 2;
    for (const mode of ["LSTM", "GRU"] as const) {
      const rnn = makeRecurrent(mode, { I, H, L, bidirectional: true, bias: true, seed: 4 });
      const x = rand(new Rng(5), T * B * I);
      const c = rnn.forward(tensor(x, [T, B, I]));
      const bytes = exportRecurrentOnnx(rnn, { initialStates: false });
      expect(decode(bytes).graph.input.map((v) => v.name)).toEqual(["x"]);
      const out = await run(bytes, { x: new ort.Tensor("float32", x, [T, B, I]) });
      const d = Math.max(maxDiff(out.y.data, c.output.data), maxDiff(out.h_n.data, c.hN));
      measured.push(`  ${mode} L=2 bidirectional, no state inputs: ${d.toExponential(2)}`);
      expect(d).toBeLessThanOrEqual(TOL);
    }
  });

  it("the comparison can fail: a changed weight after export shows up", async () => {
    const T = 4,
      B = 2,
      I = 3,
      H = 5;
    const rnn = makeRecurrent("GRU", { I, H, L: 1, bidirectional: false, bias: true, seed: 2 });
    const bytes = exportRecurrentOnnx(rnn, { initialStates: false });
    rnn.params[0].weightHh.value[H * H + 1] += 0.5; // the update gate's block (r, z, n): a reordering error would hide here
    const x = rand(new Rng(6), T * B * I);
    const c = rnn.forward(tensor(x, [T, B, I]));
    const out = await run(bytes, { x: new ort.Tensor("float32", x, [T, B, I]) });
    expect(maxDiff(out.y.data, c.output.data)).toBeGreaterThan(1e-3);
  });

  it("the graph: ir/opset/producer, inputs and outputs, initializers and their shapes", () => {
    const I = 4,
      H = 6,
      L = 2,
      D = 2,
      G = 4 * H;
    const rnn = makeRecurrent("LSTM", { I, H, L, bidirectional: true, bias: true, seed: 1 });
    const m = decode(exportRecurrentOnnx(rnn));
    expect(m.ir_version).toBe(8);
    expect(m.producer_name).toBe("rnnlab");
    expect(m.opset_import.map((o) => o.version)).toEqual([ONNX_DEFAULT_OPSET]);
    expect(m.graph.input.map((v) => [v.name, v.type.tensor_type.elem_type, shapeOf(v)])).toEqual([
      ["x", 1, ["T", "B", I]],
      ["h0", 1, [L * D, "B", H]],
      ["c0", 1, [L * D, "B", H]],
    ]);
    expect(m.graph.output.map((v) => [v.name, shapeOf(v)])).toEqual([
      ["y", ["T", "B", D * H]],
      ["h_n", [L * D, "B", H]],
      ["c_n", [L * D, "B", H]],
    ]);
    const floats = m.graph.initializer.filter((t) => t.data_type === 1).map((t) => [t.name, t.dims]);
    expect(floats).toEqual([
      ["rnn.W_l0", [D, G, I]],
      ["rnn.R_l0", [D, G, H]],
      ["rnn.B_l0", [D, 2 * G]],
      ["rnn.W_l1", [D, G, D * H]],
      ["rnn.R_l1", [D, G, H]],
      ["rnn.B_l1", [D, 2 * G]],
    ]);
    // every parameter exported once: the float initializers hold exactly the store's values
    const n = m.graph.initializer.filter((t) => t.data_type === 1).reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0);
    expect(n).toBe(rnn.store.values.length);
    expect(m.graph.node.filter((x) => x.op_type === "LSTM")).toHaveLength(L);
    // without biases: no B initializers
    const nb = decode(exportRecurrentOnnx(makeRecurrent("GRU", { I, H, L, bidirectional: false, bias: false, seed: 1 })));
    expect(nb.graph.initializer.filter((t) => t.data_type === 1).map((t) => t.name)).toEqual(["rnn.W_l0", "rnn.R_l0", "rnn.W_l1", "rnn.R_l1"]);
  });

  it("refuses what ONNX's operators cannot say: LSTM projections; and a batch-first layer", () => {
    expect(() => exportRecurrentOnnx(new LSTM({ inputSize: 2, hiddenSize: 4, projSize: 2 }))).toThrow(/projSize \(2\) has no ONNX operator/);
    expect(() => exportRecurrentOnnx(new GRU({ inputSize: 2, hiddenSize: 4, batchFirst: true }))).toThrow(/time-major/);
  });

  it("other opsets load and agree; out-of-range opsets are refused", async () => {
    const T = 3,
      B = 2,
      I = 3,
      H = 4;
    const rnn = makeRecurrent("GRU", { I, H, L: 2, bidirectional: true, bias: true, seed: 3 });
    const x = rand(new Rng(8), T * B * I);
    const c = rnn.forward(tensor(x, [T, B, I]));
    for (const opset of [14, 18, 21]) {
      const bytes = exportRecurrentOnnx(rnn, { opset, initialStates: false, producer: "test", producerVersion: "9.9" });
      const m = decode(bytes);
      expect(m.opset_import[0].version).toBe(opset);
      expect(m.producer_name).toBe("test");
      const out = await run(bytes, { x: new ort.Tensor("float32", x, [T, B, I]) });
      expect(maxDiff(out.y.data, c.output.data)).toBeLessThanOrEqual(TOL);
    }
    expect(() => exportRecurrentOnnx(rnn, { opset: 12 })).toThrow(/opset/);
    expect(() => exportRecurrentOnnx(rnn, { opset: 99 })).toThrow(/opset/);
  });
});

describe("exportOnnx: ONNX Runtime gives the language model's logits and final states", () => {
  for (const cell of ["rnn", "lstm", "gru"] as const) {
    for (const tieWeights of [false, true]) {
      const label = `${cell}, 2 layers${tieWeights ? ", tied weights" : ""}`;
      it(label, async () => {
        const T = 5,
          B = 3,
          V = 11,
          E = 6,
          H = 6,
          L = 2;
        const lm = new LanguageModel({ vocabSize: V, embedSize: E, hiddenSize: H, numLayers: L, cell, tieWeights, seed: 5 });
        expect(lm.head.weight === lm.embedding.weight).toBe(tieWeights);
        const rng = new Rng(11);
        const ids = Int32Array.from({ length: T * B }, () => Math.floor(rng.uniform() * V));
        const state = lm.createState(B).map((s) => rand(rng, s.length, 0.5));
        lm.forward(ids, ids, T, B, state);
        const logits = lm.lastLogits.slice();
        const cache = lm.lastCache!;
        const bytes = exportOnnx(lm);
        const feeds: Record<string, ort.Tensor> = {
          tokens: new ort.Tensor(
            "int64",
            BigInt64Array.from(ids, (v) => BigInt(v)),
            [T, B],
          ),
          h0: new ort.Tensor("float32", state[0] as Float32Array, [L, B, H]),
        };
        if (cell === "lstm") feeds.c0 = new ort.Tensor("float32", state[1] as Float32Array, [L, B, H]);
        const out = await run(bytes, feeds);
        expect(out.logits.dims).toEqual([T, B, V]);
        const dl = maxDiff(out.logits.data, logits);
        const dh = maxDiff(out.h_n.data, cache.hN);
        const dc = cell === "lstm" ? maxDiff(out.c_n.data, cache.cN!) : 0;
        measured.push(`  LM ${label}: logits ${dl.toExponential(2)}, h_n ${dh.toExponential(2)}${cell === "lstm" ? `, c_n ${dc.toExponential(2)}` : ""}`);
        expect(dl).toBeLessThanOrEqual(TOL);
        expect(dh).toBeLessThanOrEqual(TOL);
        expect(dc).toBeLessThanOrEqual(TOL);

        // the initializers: the embedding, the stack, the head (its transposed weight only when untied), once each
        const m = decode(bytes);
        expect(m.graph.input.map((v) => [v.name, v.type.tensor_type.elem_type, shapeOf(v)])).toEqual([
          ["tokens", 7, ["T", "B"]],
          ["h0", 1, [L, "B", H]],
          ...(cell === "lstm" ? [["c0", 1, [L, "B", H]]] : []),
        ]);
        expect(m.graph.output.map((v) => v.name)).toEqual(["logits", "h_n", ...(cell === "lstm" ? ["c_n"] : [])]);
        const floats = m.graph.initializer.filter((t) => t.data_type === 1);
        const names = floats.map((t) => t.name);
        expect(names.filter((n) => n.startsWith("rnn.W_"))).toHaveLength(L);
        expect(names.includes("head.weight_t")).toBe(!tieWeights);
        expect(floats.find((t) => t.name === "embedding.weight")!.dims).toEqual([V, E]);
        if (!tieWeights) expect(floats.find((t) => t.name === "head.weight_t")!.dims).toEqual([H, V]);
        const n = floats.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0);
        expect(n).toBe(lm.store.values.length);
      });
    }
  }

  it("predict's last-step logits and state, from zero states, with a float64 model", async () => {
    const T = 4,
      B = 2,
      V = 9,
      H = 5,
      L = 2;
    const lm = new LanguageModel({ vocabSize: V, embedSize: 3, hiddenSize: H, numLayers: L, cell: "lstm", dtype: "float64", seed: 2 });
    const ids = Int32Array.from({ length: T * B }, (_, i) => (i * 5) % V);
    const state = lm.createState(B);
    const last = lm.predict(ids, T, B, state).slice();
    const out = await run(exportOnnx(lm, { initialStates: false }), {
      tokens: new ort.Tensor(
        "int64",
        BigInt64Array.from(ids, (v) => BigInt(v)),
        [T, B],
      ),
    });
    const d = Math.max(maxDiff(out.logits.data.subarray((T - 1) * B * V), last), maxDiff(out.h_n.data, state[0]), maxDiff(out.c_n.data, state[1]));
    measured.push(`  LM lstm float64 model, predict, no state inputs: ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(TOL);
  });
});
