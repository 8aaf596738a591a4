// The registries of cells (nn/cells.ts) and optimizers (train/optim.ts) say what the code does:
// each row's facts are checked against the objects its factory builds.

import { describe, expect, it } from "vitest";
import { CELL_NAMES, CELLS, cellOfGateCount, cellOfMode, modeOf } from "../nn/cells.js";
import { ParamStore } from "../nn/params.js";
import { createRecurrent } from "../nn/recurrent.js";
import { NON_NEGATIVE_STATE, OPTIMIZER_NAMES, OPTIMIZERS, type AnyOptimizerOptions } from "./optim.js";

describe("cell registry", () => {
  for (const name of CELL_NAMES) {
    it(`${name}: gates, states, ONNX order and spectra blocks match the layer it builds`, () => {
      const spec = CELLS[name];
      const H = 3;
      const rnn = createRecurrent(name, { inputSize: 2, hiddenSize: H, seed: 1 });
      expect(rnn.params[0].weightHh.shape).toEqual([spec.gates.length * H, H]);
      expect(rnn.createState(2)).toHaveLength(spec.states.length);
      expect(cellOfMode(rnn.mode)).toBe(spec);
      expect(modeOf(name, "tanh")).toBe(rnn.mode);
      expect(cellOfGateCount(spec.gates.length)).toBe(spec);
      expect([...spec.onnx.gateOrder].sort()).toEqual(spec.gates.map((_, i) => i)); // a permutation of the blocks
      expect(spec.spectra).toHaveLength(spec.gates.length);
    });
  }
});

describe("optimizer registry", () => {
  const variants: AnyOptimizerOptions[] = [{ lr: 0.1 }, { lr: 0.1, momentum: 0.9 }, { lr: 0.1, centered: true, momentum: 0.5 }, { lr: 0.1, amsgrad: true }];
  for (const name of OPTIMIZER_NAMES) {
    it(`${name}: the state buffers it names are the ones it keeps, for every option that changes them`, () => {
      for (const o of variants) {
        const store = new ParamStore({ seed: 1 });
        store.declare("w", [4], (v) => v.fill(1));
        const opts = OPTIMIZERS[name].momentum ? o : { ...o, momentum: 0 }; // momentum only where it is a setting
        const opt = OPTIMIZERS[name].create(store, opts);
        expect(Object.keys(opt.stateBuffers()).sort(), JSON.stringify(opts)).toEqual(OPTIMIZERS[name].state(opts).sort());
        expect(opt.name).toBe(name);
      }
    });
  }
  it("the never-negative state buffers are running sums or averages of squares", () => {
    expect([...NON_NEGATIVE_STATE].sort()).toEqual(["exp_avg_sq", "max_exp_avg_sq", "square_avg", "sum"]);
  });
});
