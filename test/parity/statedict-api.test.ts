// State dicts of the new parts of the recurrent API, checked against PyTorch's own numbers: a
// bare nn.LSTM(proj_size=P) state dict (the fixture's parameters, as state_dict() names them)
// builds the right layer through recurrentFromStateDict and gives PyTorch's output; a cell's
// state dict (weight_ih, weight_hh, bias_ih, bias_hh) loads into RNNCell/LSTMCell/GRUCell; a
// language model with projections is refused by name.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  GRUCell,
  inferLanguageModelConfig,
  inferRecurrentConfig,
  LSTM,
  LSTMCell,
  loadStateDict,
  recurrentFromStateDict,
  RNNCell,
  StateDictError,
  stateDictOf,
  tensor,
  type StateTensor,
} from "../../src/index.js";
import { EXTRA_FIXTURE_DIR, expectClose, type FixtureTensor } from "../helpers/fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: fixtures are JSON
const fixture = (name: string): Record<string, any> => JSON.parse(readFileSync(join(EXTRA_FIXTURE_DIR, `${name}.json`), "utf8"));
const stateDict = (params: Record<string, FixtureTensor>): Record<string, StateTensor> =>
  Object.fromEntries(Object.entries(params).map(([k, t]) => [k, { shape: t.shape, data: Float64Array.from(t.data) }]));

describe("state dicts of LSTM projections and cells", () => {
  for (const name of ["lstm_proj_l2", "lstm_proj_bidirectional_l2", "lstm_proj_packed_l1_nobias"]) {
    it(`${name}: a bare nn.LSTM(proj_size) state dict builds the layer and gives PyTorch's output`, () => {
      const fx = fixture(name);
      const sd = stateDict(fx.params);
      const config = inferRecurrentConfig(sd);
      expect(config).toMatchObject({
        cell: "lstm",
        inputSize: fx.module.input_size,
        hiddenSize: fx.module.hidden_size,
        numLayers: fx.module.num_layers,
        bias: fx.module.bias,
        bidirectional: fx.module.bidirectional ?? false,
        projSize: fx.module.proj_size,
      });
      const { rnn } = recurrentFromStateDict(sd, { dtype: "float64" });
      const t = (f: FixtureTensor) => tensor(f.data, f.shape, "float64");
      const { x, h0, c0, lengths } = fx.inputs;
      const c = rnn.forward(t(x), [t(h0), t(c0)], { lengths });
      expectClose("output", c.output.data, fx.outputs.output.data, 1e-9);
      expectClose("h_n", c.hN, fx.outputs.h_n.data, 1e-9);
      // and back out under PyTorch's names, in PyTorch's order
      expect(Object.keys(stateDictOf(rnn))).toEqual(Object.keys(fx.params));
    });
  }

  it("refuses a projection state dict with a layer's weight_hr missing, or weight_hh of the wrong width", () => {
    const sd = stateDict(fixture("lstm_proj_l2").params);
    const { weight_hr_l1: _, ...gap } = sd;
    expect(() => inferRecurrentConfig(gap)).toThrow(/weight_hr_l1 is missing: an LSTM with projections \(proj_size 3\)/);
    const wide = { ...sd, weight_hh_l0: { shape: [16, 4], data: new Float64Array(64) } };
    expect(() => inferRecurrentConfig(wide)).toThrow(/need weight_hh_l0 of shape \[4H, P\] = \[16, 3\]/);
  });

  it("a language model whose LSTM has projections is refused, naming proj_size", () => {
    const lstm = new LSTM({ inputSize: 4, hiddenSize: 5, projSize: 2 });
    const sd: Record<string, StateTensor> = { "embedding.weight": { shape: [7, 4], data: new Float32Array(28) } };
    for (const [k, v] of Object.entries(stateDictOf(lstm))) sd[`rnn.${k}`] = v;
    expect(() => inferLanguageModelConfig(sd)).toThrow(StateDictError);
    expect(() => inferLanguageModelConfig(sd)).toThrow(/language models with LSTM projections \(PyTorch's proj_size 2\) are not supported/);
  });

  for (const name of ["cell_rnn_tanh", "cell_lstm", "cell_gru"]) {
    it(`${name}: PyTorch's cell state dict loads strictly, saves back under the same names, and gives its first step`, () => {
      const fx = fixture(name);
      const o = { inputSize: fx.module.input_size, hiddenSize: fx.module.hidden_size, dtype: "float64" as const };
      const cell = fx.module.type === "RNNCell" ? new RNNCell(o) : fx.module.type === "LSTMCell" ? new LSTMCell(o) : new GRUCell(o);
      const report = loadStateDict(cell, stateDict(fx.params));
      expect(report.loaded).toEqual(["weight_ih", "weight_hh", "bias_ih", "bias_hh"]);
      expect(Object.keys(stateDictOf(cell))).toEqual(Object.keys(fx.params));
      const [, B, I] = fx.inputs.x.shape;
      const H = fx.module.hidden_size;
      const x0 = tensor(fx.inputs.x.data.slice(0, B * I), [B, I], "float64");
      const h0 = tensor(fx.inputs.h0.data, [B, H], "float64");
      const h1 = cell instanceof LSTMCell ? cell.forward(x0, [h0, tensor(fx.inputs.c0.data, [B, H], "float64")])[0] : (cell as RNNCell).forward(x0, h0);
      expectClose("h_1", h1.data, fx.outputs.h.data.slice(0, B * H), 1e-9);
      expect(() => loadStateDict(cell, { weight_ih_l0: stateDict(fx.params).weight_ih })).toThrow(
        /missing weight_ih, weight_hh, bias_ih, bias_hh; unexpected weight_ih_l0/,
      );
    });
  }
});
