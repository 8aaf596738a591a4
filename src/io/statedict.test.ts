import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LanguageModel, type LanguageModelOptions } from "../nn/language-model.js";
import { GRU, LSTM, RNN } from "../nn/recurrent.js";
import type { Float } from "../tensor/dtype.js";
import { jsTiledKernels } from "../tensor/js-kernels.js";
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from "./safetensors.js";
import {
  canonicalNames,
  inferLanguageModelConfig,
  inferRecurrentConfig,
  languageModelFromStateDict,
  loadStateDict,
  recurrentFromStateDict,
  stateDictOf,
  StateDictError,
  type StateTensor,
} from "./statedict.js";

const bits = (a: Float) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const lm = (o: Partial<LanguageModelOptions> = {}) => new LanguageModel({ vocabSize: 7, embedSize: 4, hiddenSize: 5, cell: "gru", ...o });

describe("stateDictOf", () => {
  it("gives a language model's weights under PyTorch's names, in PyTorch's order, as copies", () => {
    const m = lm({ numLayers: 2 });
    const sd = stateDictOf(m);
    expect(Object.keys(sd)).toEqual([
      "embedding.weight",
      "rnn.weight_ih_l0",
      "rnn.weight_hh_l0",
      "rnn.bias_ih_l0",
      "rnn.bias_hh_l0",
      "rnn.weight_ih_l1",
      "rnn.weight_hh_l1",
      "rnn.bias_ih_l1",
      "rnn.bias_hh_l1",
      "head.weight",
      "head.bias",
    ]);
    expect(sd["rnn.weight_ih_l1"].shape).toEqual([15, 5]);
    expect(sd["head.weight"].shape).toEqual([7, 5]);
    sd["head.bias"].data[0] += 1;
    expect(m.head.bias!.value[0]).not.toBe(sd["head.bias"].data[0]);
  });

  it("writes a tied head.weight as a copy of embedding.weight, as PyTorch's state_dict lists a shared tensor twice", () => {
    const m = lm({ hiddenSize: 4, tieWeights: true });
    const sd = stateDictOf(m);
    expect(Object.keys(sd)).toContain("head.weight");
    expect(bits(sd["head.weight"].data)).toEqual(bits(sd["embedding.weight"].data));
    expect(sd["head.weight"].data).not.toBe(sd["embedding.weight"].data);
  });

  it("gives a bare recurrent layer its local names, also when it sits inside a language model", () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 2, bidirectional: true, bias: false });
    expect(Object.keys(stateDictOf(lstm))).toEqual(["weight_ih_l0", "weight_hh_l0", "weight_ih_l0_reverse", "weight_hh_l0_reverse"]);
    expect(Object.keys(stateDictOf(lm().rnn))).toEqual(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]);
  });
});

describe("loadStateDict", () => {
  it("round-trips every weight bit for bit, through a safetensors file", () => {
    for (const o of [{}, { cell: "lstm" as const, numLayers: 2 }, { cell: "rnn" as const, hiddenSize: 4, tieWeights: true }]) {
      const a = lm({ ...o, seed: 1 });
      const b = lm({ ...o, seed: 2 });
      expect(bits(b.store.values)).not.toEqual(bits(a.store.values));
      const report = loadStateDict(b, decodeSafetensors(encodeSafetensors(stateDictOf(a))).tensors);
      expect(bits(b.store.values)).toEqual(bits(a.store.values));
      expect(report.converted).toEqual([]);
      expect(report.tied).toBe(Boolean(o.tieWeights));
    }
  });

  it("loads a bare layer from a language model's file with a prefix, ignoring names outside it", () => {
    const a = lm({ seed: 3 });
    const gru = new GRU({ inputSize: 4, hiddenSize: 5 });
    const report = loadStateDict(gru, stateDictOf(a), { prefix: "rnn." });
    expect(report.loaded).toEqual(["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"]);
    expect(bits(gru.params[0].weightHh.value)).toEqual(bits(a.rnn.params[0].weightHh.value));
  });

  it("names every missing, unexpected and misshapen tensor in one error, and changes nothing", () => {
    const m = lm();
    const before = m.store.values.slice();
    const sd: Record<string, StateTensor> = { ...stateDictOf(lm({ seed: 5 })) };
    delete sd["rnn.bias_hh_l0"];
    sd["rnn.weight_hr_l0"] = { shape: [1], data: new Float32Array(1) };
    sd["head.weight"] = { shape: [5, 7], data: new Float32Array(35) };
    let err: unknown;
    try {
      loadStateDict(m, sd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    expect((err as Error).message).toBe(
      "the state dict does not fit the model: missing rnn.bias_hh_l0; unexpected rnn.weight_hr_l0; head.weight has shape [5, 7], the model needs [7, 5]",
    );
    expect(bits(m.store.values)).toEqual(bits(before));
  });

  it("without strict, loads what fits and reports what is missing or unexpected", () => {
    const m = lm();
    const src = lm({ seed: 9 });
    const sd: Record<string, StateTensor> = { ...stateDictOf(src), extra: { shape: [1], data: new Float32Array(1) } };
    delete sd["head.bias"];
    const r = loadStateDict(m, sd, { strict: false });
    expect(r.missing).toEqual(["head.bias"]);
    expect(r.unexpected).toEqual(["extra"]);
    expect(bits(m.embedding.weight.value)).toEqual(bits(src.embedding.weight.value));
  });

  it("refuses integers, NaN, and float64 values too large for float32", () => {
    const good = stateDictOf(lm({ seed: 4 }));
    const cases: [string, StateTensor, RegExp][] = [
      ["head.bias", { shape: [7], data: new Int32Array(7) }, /head\.bias holds integers \(I32\)/],
      ["head.bias", { shape: [7], data: Float32Array.from([0, 0, NaN, 0, 0, 0, 0]) }, /head\.bias holds NaN at element 2; weights must be finite/],
      ["head.bias", { shape: [7], data: Float64Array.from([0, 1e300, 0, 0, 0, 0, 0]) }, /head\.bias holds 1e\+300, too large for float32, at element 1/],
    ];
    for (const [name, t, message] of cases) expect(() => loadStateDict(lm(), { ...good, [name]: t })).toThrow(message);
  });

  it("widens F16, BF16 and F32 exactly, rounds F64 into float32, and says so", () => {
    const g = new GRU({ inputSize: 1, hiddenSize: 1, bias: false, dtype: "float64" });
    const r = loadStateDict(g, {
      weight_ih_l0: { shape: [3, 1], data: Float32Array.from([0.5, -2, 2 ** -24]), dtype: "F16" },
      weight_hh_l0: { shape: [3, 1], data: Float32Array.from([1, 3.140625, 0]), dtype: "BF16" },
    });
    expect(r.converted).toEqual([
      { name: "weight_ih_l0", from: "F16", to: "float64", exact: true },
      { name: "weight_hh_l0", from: "BF16", to: "float64", exact: true },
    ]);
    expect([...g.params[0].weightHh.value]).toEqual([1, 3.140625, 0]);
    const f = new GRU({ inputSize: 1, hiddenSize: 1, bias: false });
    const r2 = loadStateDict(f, {
      weight_ih_l0: { shape: [3, 1], data: Float64Array.from([0.1, 0.2, 0.3]) },
      weight_hh_l0: { shape: [3, 1], data: new Float32Array(3) },
    });
    expect(r2.converted).toEqual([{ name: "weight_ih_l0", from: "F64", to: "float32", exact: false }]);
    expect([...f.params[0].weightIh.value]).toEqual([0.1, 0.2, 0.3].map(Math.fround));
  });

  it("keeps a tie when head.weight equals embedding.weight, and refuses to drop a different one", () => {
    const m = lm({ hiddenSize: 4, tieWeights: true });
    const sd = stateDictOf(lm({ hiddenSize: 4, tieWeights: true, seed: 8 }));
    const noHead: Record<string, StateTensor> = { ...sd };
    delete noHead["head.weight"];
    expect(loadStateDict(m, noHead).tied).toBe(false); // nothing to compare: embedding.weight serves both
    const differs = { ...sd, "head.weight": { shape: sd["head.weight"].shape, data: sd["head.weight"].data.map((v, i) => (i === 5 ? v + 0.25 : v)) } };
    expect(() => loadStateDict(m, differs)).toThrow(/head\.weight differs from embedding\.weight \(by up to 0\.250, at element 5\) but the model ties them/);
  });
});

describe("inferring a config from names and shapes", () => {
  it("tells the cell by the gate multiple, layers by _l{k}, directions by _reverse, bias by presence", () => {
    for (const [Cell, cell] of [
      [RNN, "rnn"],
      [GRU, "gru"],
      [LSTM, "lstm"],
    ] as const) {
      for (const [numLayers, bidirectional, bias] of [
        [1, false, true],
        [3, true, false],
      ] as const) {
        const m = new Cell({ inputSize: 3, hiddenSize: 4, numLayers, bidirectional, bias });
        expect(inferRecurrentConfig(stateDictOf(m), { nonlinearity: "relu" })).toEqual({
          cell,
          inputSize: 3,
          hiddenSize: 4,
          numLayers,
          bias,
          bidirectional,
          nonlinearity: cell === "rnn" ? "relu" : "tanh",
        });
      }
    }
  });

  it("explains names that describe no layer rnnlab has", () => {
    const sd = stateDictOf(new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 3 }));
    expect(() => inferRecurrentConfig(sd)).toThrow(/an Elman RNN's nonlinearity is not in its weights: give "tanh" \(PyTorch's default\) or "relu"/);
    expect(() => inferRecurrentConfig({})).toThrow(/no recurrent layer: weight_hh_l0 is missing/);
    const gap: Record<string, StateTensor> = { ...sd };
    delete gap.weight_hh_l1;
    expect(() => inferRecurrentConfig(gap, { nonlinearity: "tanh" })).toThrow(/weight_hh_l1 is missing, but names up to layer 2 are there/);
    const two = { weight_ih_l0: { shape: [8, 3], data: new Float32Array(24) }, weight_hh_l0: { shape: [8, 4], data: new Float32Array(32) } };
    expect(() => inferRecurrentConfig(two)).toThrow(/G\/H must be 1 \(RNN\), 3 \(GRU\) or 4 \(LSTM\), not 2\.00/);
    const proj = { ...stateDictOf(new LSTM({ inputSize: 3, hiddenSize: 4 })), weight_hr_l0: { shape: [2, 4], data: new Float32Array(8) } };
    expect(() => inferRecurrentConfig(proj)).toThrow(/weight_hr_l0: LSTMs with projections/);
  });

  it("infers a language model and whether its weights are tied", () => {
    const untied = stateDictOf(lm({ hiddenSize: 4, seed: 1 }));
    expect(inferLanguageModelConfig(untied)).toEqual({
      cell: "gru",
      vocabSize: 7,
      embedSize: 4,
      hiddenSize: 4,
      numLayers: 1,
      nonlinearity: "tanh",
      tieWeights: false,
      bias: true,
      headBias: true,
    });
    expect(() => inferLanguageModelConfig(untied, { tieWeights: true })).toThrow(/head\.weight differs from embedding\.weight/);
    const tied = stateDictOf(lm({ hiddenSize: 4, tieWeights: true }));
    expect(inferLanguageModelConfig(tied).tieWeights).toBe(true);
    expect(inferLanguageModelConfig(tied, { tieWeights: false }).tieWeights).toBe(false);
    const headless: Record<string, StateTensor> = { ...tied };
    delete headless["head.weight"];
    expect(inferLanguageModelConfig(headless).tieWeights).toBe(true);
    const bidir = {
      "embedding.weight": untied["embedding.weight"],
      ...Object.fromEntries(Object.entries(stateDictOf(new GRU({ inputSize: 4, hiddenSize: 4, bidirectional: true }))).map(([k, v]) => [`rnn.${k}`, v])),
    };
    expect(() => inferLanguageModelConfig(bidir)).toThrow(/bidirectional layer sees the text after each position/);
    expect(() => inferLanguageModelConfig({})).toThrow(/embedding\.weight is missing/);
  });

  it("maps other spellings of the three parts and strips a wrapper's prefix", () => {
    const w = { shape: [1], data: new Float32Array(1) };
    const { tensors, renamed } = canonicalNames({
      "module.encoder.weight": w,
      "module.rnn.weight_hh_l0": w,
      "module.decoder.weight": w,
      "module.decoder.bias": w,
    });
    expect([...tensors.keys()]).toEqual(["embedding.weight", "rnn.weight_hh_l0", "head.weight", "head.bias"]);
    expect(renamed).toEqual(["module.* -> *", "encoder.* -> embedding.*", "decoder.* -> head.*"]);
    expect([...canonicalNames({ "embedding.weight": w, "lstm.weight_hh_l0": w, "fc.bias": w }).tensors.keys()]).toEqual([
      "embedding.weight",
      "rnn.weight_hh_l0",
      "head.bias",
    ]);
  });

  it("brings back the names safetensors' save_model dropped (a tied word_language_model: encoder.weight = decoder.weight)", () => {
    const m = lm({ embedSize: 5, tieWeights: true });
    const sd = stateDictOf(m);
    // save_model keeps the first name of a shared tensor in sorted order and records the others as metadata dropped -> kept
    const file: Record<string, StateTensor> = {};
    for (const [k, t] of Object.entries(sd)) {
      const name = k.replace(/^embedding\./, "encoder.").replace(/^head\./, "decoder.");
      if (name !== "encoder.weight") file[name] = t;
    }
    const meta = { format: "pt", "encoder.weight": "decoder.weight" };
    expect(() => inferLanguageModelConfig(canonicalNames(file).tensors)).toThrow(/embedding\.weight is missing/);
    const { tensors, renamed } = canonicalNames(file, meta);
    expect(renamed).toEqual(["encoder.weight = decoder.weight (saved once by save_model)", "encoder.* -> embedding.*", "decoder.* -> head.*"]);
    expect(tensors.get("embedding.weight")).toBe(tensors.get("head.weight"));
    const { model, config } = languageModelFromStateDict(tensors);
    expect(config.tieWeights).toBe(true);
    expect(model.head.weight).toBe(model.embedding.weight);
    expect(bits(model.embedding.weight.value)).toEqual(bits(m.embedding.weight.value as Float));
    // metadata that names no dropped tensor changes nothing
    expect(canonicalNames(file, { format: "pt", vocab: "[]", "head.weight": "missing.weight" }).renamed).toEqual(["decoder.* -> head.*"]);
  });
});

describe("odd state dicts", () => {
  it("any edit of a language model's state dict builds a model or throws a StateDictError, nothing else", () => {
    const base = { ...stateDictOf(lm({ numLayers: 2, hiddenSize: 4, tieWeights: true })) } as Record<string, StateTensor>;
    const names = Object.keys(base);
    const dims = fc.array(fc.oneof(fc.integer({ min: 0, max: 16 }), fc.constant(2 ** 31)), { maxLength: 3 });
    const edit = fc.oneof(
      fc.record({ kind: fc.constant("drop" as const), i: fc.nat() }),
      fc.record({ kind: fc.constant("shape" as const), i: fc.nat(), shape: dims }),
      fc.record({
        kind: fc.constant("rename" as const),
        i: fc.nat(),
        to: fc.oneof(
          fc.constantFrom("rnn.weight_hh_l7", "rnn.bias_ih_l0_reverse", "rnn.weight_hr_l0", "head.weight", "x", "rnn.weight_ih_l99999999999999999999"),
          fc.string(),
        ),
      }),
      fc.record({ kind: fc.constant("int" as const), i: fc.nat() }),
      fc.record({ kind: fc.constant("nan" as const), i: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        fc.constantFrom<"tanh" | "relu" | undefined>("tanh", "relu", undefined),
        fc.option(fc.boolean()),
        (edits, nonlinearity, tie) => {
          const sd = new Map(Object.entries(base));
          for (const e of edits) {
            const name = names[e.i % names.length];
            const t = sd.get(name);
            if (!t) continue;
            if (e.kind === "drop") sd.delete(name);
            else if (e.kind === "shape") {
              const n = e.shape.reduce((a, b) => a * b, 1);
              sd.set(name, { shape: e.shape, data: n <= 1e5 ? new Float32Array(n).fill(0.5) : t.data }); // too big: data that does not fill the shape
            } else if (e.kind === "rename") {
              sd.delete(name);
              sd.set(e.to, t);
            } else if (e.kind === "int") sd.set(name, { shape: t.shape, data: new Int32Array(t.data.length) });
            else sd.set(name, { shape: t.shape, data: t.data.map(() => NaN) });
          }
          for (const run of [
            () => languageModelFromStateDict(canonicalNames(sd).tensors, { nonlinearity, tieWeights: tie ?? undefined, alwaysBias: true }),
            () => recurrentFromStateDict(sd, { prefix: "rnn.", nonlinearity }),
          ]) {
            try {
              run();
            } catch (e) {
              if (!(e instanceof StateDictError)) throw e;
            }
          }
        },
      ),
      { seed: 5, numRuns: 1000 },
    );
  });
});

// --- PyTorch's own files (tools/make_safetensors_fixtures.py) -----------------------------------

const DIR = fileURLToPath(new URL("../../test/fixtures/safetensors/", import.meta.url));
function fixture(name: string) {
  const f = decodeSafetensors(readFileSync(`${DIR}${name}.safetensors`));
  const e = decodeSafetensors(readFileSync(`${DIR}${name}.expected.safetensors`));
  const t = (n: string): SafetensorsTensor => {
    const x = e.tensors.get(n);
    if (!x) throw new Error(`${name}.expected has no ${n}`);
    return x;
  };
  return { tensors: f.tensors, meta: { ...f.metadata, ...e.metadata }, t, has: (n: string) => e.tensors.has(n) };
}

/** max |a - b| / max(1, |b|), after checking the lengths. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

const measured: string[] = [];

describe("PyTorch's state_dicts, read from safetensors files", () => {
  const cases: [string, string, Partial<ReturnType<typeof inferRecurrentConfig>>][] = [
    ["lstm_bidir_l2", "F32", { cell: "lstm", numLayers: 2, bidirectional: true, bias: true, inputSize: 3, hiddenSize: 4 }],
    ["lstm_bidir_l2_f16", "F16", { cell: "lstm", numLayers: 2, bidirectional: true }],
    ["lstm_bidir_l2_bf16", "BF16", { cell: "lstm", numLayers: 2, bidirectional: true }],
    ["gru_nobias", "F32", { cell: "gru", numLayers: 2, bidirectional: false, bias: false, inputSize: 3, hiddenSize: 5 }],
    ["rnn_relu_nobias", "F32", { cell: "rnn", numLayers: 2, bias: false, nonlinearity: "relu" }],
  ];
  for (const [name, dtype, config] of cases) {
    it(`${name}: rnnlab reproduces PyTorch's output and final states (float64 to 1e-9, float32 to 1e-5)`, () => {
      const fx = fixture(name);
      const nonlinearity = fx.meta.nonlinearity as "tanh" | "relu" | undefined;
      expect([...fx.tensors.values()].every((t) => t.dtype === dtype)).toBe(true);
      const outs = ["output", "h_n", ...(fx.has("c_n") ? ["c_n"] : [])];
      for (const precision of ["float64", "float32"] as const) {
        const {
          rnn,
          config: got,
          report,
        } = recurrentFromStateDict(fx.tensors, {
          nonlinearity,
          dtype: precision,
          kernels: precision === "float64" ? jsTiledKernels : undefined,
        });
        expect(got).toMatchObject(config);
        expect(report.converted.every((c) => c.exact && c.from === dtype)).toBe(true);
        const x = fx.t("x");
        const state = ["h0", ...(fx.has("c0") ? ["c0"] : [])].map((n) => {
          const s = fx.t(n);
          return { shape: s.shape, data: precision === "float64" ? Float64Array.from(s.data) : Float32Array.from(s.data) };
        });
        const c = rnn.forward({ shape: x.shape, data: precision === "float64" ? Float64Array.from(x.data) : Float32Array.from(x.data) }, state);
        const got64 = { output: c.output.data, h_n: c.hN, c_n: c.cN! };
        for (const out of outs) {
          const want = fx.t(precision === "float64" ? out : `${out}_f32`);
          const d = maxRelDiff(got64[out as keyof typeof got64], want.data);
          measured.push(`${name} ${out} ${precision}: ${d.toExponential(2)}`);
          expect(d).toBeLessThan(precision === "float64" ? 1e-9 : 1e-5);
        }
      }
    });
  }

  it("F16 and BF16 weights give the full-precision outputs to the precision those formats hold", () => {
    const full = fixture("lstm_bidir_l2");
    for (const [name, tol] of [
      ["lstm_bidir_l2_f16", 2 ** -10],
      ["lstm_bidir_l2_bf16", 2 ** -7],
    ] as const) {
      const fx = fixture(name);
      const { rnn } = recurrentFromStateDict(fx.tensors, { dtype: "float64", kernels: jsTiledKernels });
      const f64 = (n: string) => ({ shape: fx.t(n).shape, data: Float64Array.from(fx.t(n).data) });
      const c = rnn.forward(f64("x"), [f64("h0"), f64("c0")]);
      const d = maxRelDiff(c.output.data, full.t("output").data);
      measured.push(`${name} output against the unrounded weights' (float64): ${d.toExponential(2)}`);
      expect(d).toBeLessThan(tol); // twice the unit roundoff of the format
      expect(d).toBeGreaterThan(1e-7); // the weights really were rounded
    }
  });

  const lms: [string, { nonlinearity?: "relu"; tied: boolean; cell: string }][] = [
    ["charlm_gru", { tied: false, cell: "gru" }],
    ["charlm_lstm_tied_wlm", { tied: true, cell: "lstm" }],
    ["charlm_rnn_relu_nobias", { nonlinearity: "relu", tied: false, cell: "rnn" }],
  ];
  for (const [name, o] of lms) {
    it(`${name}: an Embedding -> ${o.cell.toUpperCase()} -> Linear language model gives PyTorch's logits`, () => {
      const fx = fixture(name);
      const { tensors } = canonicalNames(fx.tensors);
      const ids = fx.t("input_ids");
      const [T, B] = ids.shape;
      for (const precision of ["float64", "float32"] as const) {
        for (const alwaysBias of [false, true]) {
          const { model, config, report, zeroed } = languageModelFromStateDict(tensors, {
            nonlinearity: o.nonlinearity,
            alwaysBias,
            dtype: precision,
            kernels: precision === "float64" ? jsTiledKernels : undefined,
          });
          expect(config.cell).toBe(o.cell);
          expect(config.tieWeights).toBe(o.tied);
          expect(report.tied).toBe(o.tied);
          if (name === "charlm_rnn_relu_nobias") expect(zeroed).toEqual(alwaysBias ? ["head.bias", "rnn.bias_ih_l0", "rnn.bias_hh_l0"] : ["head.bias"]);
          model.forward(ids.data as Int32Array, new Int32Array(T * B), T, B, null);
          const d = maxRelDiff(model.lastLogits, fx.t(precision === "float64" ? "logits" : "logits_f32").data);
          if (!alwaysBias) measured.push(`${name} logits ${precision}: ${d.toExponential(2)}`);
          expect(d).toBeLessThan(precision === "float64" ? 1e-9 : 1e-5);
        }
      }
    });
  }

  it("reports the measured differences", () => {
    console.log(`statedict against PyTorch (max |rnnlab - torch| / max(1, |torch|)):\n  ${measured.join("\n  ")}`);
  });
});
