// Optimizer options: a key an optimizer does not have is an error naming it (a misspelt
// `momentm` would otherwise train with no momentum, silently); the registry's factories take the
// union of every optimizer's options, pass each optimizer its own and refuse any other key.

import { describe, expect, it } from "vitest";
import { ParamStore } from "../nn/params.js";
import { Adagrad, Adam, AdamW, createOptimizer, OPTIMIZER_NAMES, OPTIMIZER_OPTION_KEYS, OPTIMIZERS, RMSprop, SGD, type AnyOptimizerOptions } from "./optim.js";

function store(): ParamStore {
  const s = new ParamStore({ seed: 1, dtype: "float64" });
  s.declare("w", [3], (v) => v.fill(1));
  return s;
}

describe("optimizer constructors refuse unknown options", () => {
  const cases: [string, () => unknown, string][] = [
    ["Adam", () => new Adam(store(), { lr: 1e-3, momentm: 0.9 } as never), "momentm"],
    ["Adam", () => new Adam(store(), { lr: 1e-3, momentum: 0.9 } as never), "momentum"], // another optimizer's option is not Adam's
    ["AdamW", () => new AdamW(store(), { weight_decay: 0.1 } as never), "weight_decay"],
    ["SGD", () => new SGD(store(), { lr: 0.1, nesterow: true } as never), "nesterow"],
    ["Adagrad", () => new Adagrad(store(), { lr: 0.1, lr_decay: 0.01 } as never), "lr_decay"],
    ["RMSprop", () => new RMSprop(store(), { lr: 0.1, centred: true } as never), "centred"],
  ];
  for (const [name, make, key] of cases) {
    it(`${name} with "${key}"`, () => {
      expect(make).toThrow(RangeError);
      expect(make).toThrow(new RegExp(`^${name}: unknown option "${key}" \\(known options: lr, `));
    });
  }

  it("every option each one documents is accepted", () => {
    const k = store().kernels;
    expect(() => new SGD(store(), { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: true, kernels: k })).not.toThrow();
    expect(() => new Adagrad(store(), { lr: 0.1, lrDecay: 0.01, weightDecay: 0, initialAccumulatorValue: 0.1, eps: 1e-10, kernels: k })).not.toThrow();
    expect(() => new RMSprop(store(), { lr: 0.1, alpha: 0.9, eps: 1e-8, weightDecay: 0, momentum: 0.5, centered: true, kernels: k })).not.toThrow();
    for (const C of [Adam, AdamW])
      expect(() => new C(store(), { lr: 0.1, betas: [0.8, 0.9], eps: 1e-8, weightDecay: 0, amsgrad: true, kernels: k })).not.toThrow();
  });
});

describe("the registry's factories", () => {
  it("pass each optimizer its own options, leave the others' alone, and refuse a key no optimizer has", () => {
    const all: AnyOptimizerOptions = {
      lr: 0.05,
      momentum: 0.5,
      alpha: 0.9,
      centered: true,
      betas: [0.8, 0.95],
      amsgrad: true,
      lrDecay: 0.1,
      weightDecay: 0.01,
    };
    const rms = createOptimizer("rmsprop", store(), all) as RMSprop;
    expect([rms.lr, rms.alpha, rms.centered, rms.momentum, rms.weightDecay]).toEqual([0.05, 0.9, true, 0.5, 0.01]);
    const adam = OPTIMIZERS.adam.create(store(), all) as Adam;
    expect([adam.beta1, adam.beta2, adam.amsgrad]).toEqual([0.8, 0.95, true]);
    const ada = createOptimizer("adagrad", store(), all) as Adagrad;
    expect(ada.lrDecay).toBe(0.1);
    for (const name of OPTIMIZER_NAMES) {
      expect(() => createOptimizer(name, store(), { lr: 0.1, momentm: 0.9 } as never)).toThrow(new RegExp(`optimizer ${name}: unknown option "momentm"`));
      expect(OPTIMIZER_OPTION_KEYS[name]).toContain("lr");
    }
    expect(() => createOptimizer("sgd", store(), { momentum: 0.9 })).toThrow(/SGD needs a learning rate/);
  });
});

describe("momentum changed between steps (as PyTorch's param_groups[0]['momentum'])", () => {
  it("SGD: from 0.9 to 0 the next update is plain SGD; back to 0.9 resumes the kept buffer; 0 to positive without a buffer is refused", () => {
    const s = store();
    const opt = new SGD(s, { lr: 0.1, momentum: 0.9 });
    s.grads.fill(1);
    opt.step(); // buf = 1, w = 0.9
    opt.momentum = 0;
    s.grads.fill(2);
    opt.step(); // plain: w = 0.9 - 0.2
    expect(s.values[0]).toBeCloseTo(0.7, 14);
    opt.momentum = 0.9;
    s.grads.fill(1);
    opt.step(); // buf = 0.9·1 + 1 = 1.9 (the buffer kept from the first step), w = 0.7 - 0.19
    expect(s.values[0]).toBeCloseTo(0.51, 14);
    expect(() => (new SGD(store(), { lr: 0.1 }).momentum = 0.5)).toThrow(/without momentum/);
    expect(() => (opt.momentum = -1)).toThrow(RangeError);
    expect(() => (new SGD(store(), { lr: 0.1, momentum: 0.9, nesterov: true }).momentum = 0)).toThrow(/Nesterov/);
  });

  it("RMSprop: momentum to 0 gives the plain update", () => {
    const a = store();
    const b = store();
    const withM = new RMSprop(a, { lr: 0.01, momentum: 0.5 });
    const plain = new RMSprop(b, { lr: 0.01 });
    withM.momentum = 0;
    a.grads.fill(0.3);
    b.grads.fill(0.3);
    withM.step();
    plain.step();
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
  });
});
