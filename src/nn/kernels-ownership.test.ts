// A model computes with the kernel set its store was made with: its buffers live where those
// kernels read them, and its optimizer and trainer use them, whatever the default is meanwhile.

import { describe, expect, it } from "vitest";
import { jsTiledKernels } from "../tensor/js-kernels.js";
import type { Kernels } from "../tensor/kernels.js";
import { useKernels, wasmKernels } from "../tensor/select.js";
import { Adam } from "../train/optim.js";
import { Trainer } from "../train/trainer.js";
import { LanguageModel } from "./language-model.js";
import { Linear } from "./linear.js";
import { ParamStore } from "./params.js";

/** A kernel set that counts its GEMM calls and otherwise is the TypeScript one. */
function counting(): Kernels & { calls: number } {
  const k = { ...jsTiledKernels, name: "counting", calls: 0 };
  k.gemm = (...args: Parameters<Kernels["gemm"]>) => {
    k.calls++;
    return jsTiledKernels.gemm(...args);
  };
  return k;
}

describe("kernels belong to the model's store", () => {
  it("a model built on one set trains on it, whatever the default becomes", () => {
    const k = counting();
    const lm = new LanguageModel({ vocabSize: 5, embedSize: 4, hiddenSize: 6, kernels: k, seed: 1 });
    const opt = new Adam(lm.store, { lr: 1e-3 });
    const tr = new Trainer(lm, { optimizer: opt, batch: 2, k1: 3 });
    const w = wasmKernels();
    useKernels(w ? "wasm" : "js-reference"); // the default changes after the model was built
    if (w) expect(w.arena.holds(lm.store.values)).toBe(false);
    const before = k.calls;
    tr.step(Int32Array.from([0, 1, 2, 3, 4, 0]), Int32Array.from([1, 2, 3, 4, 0, 1]), 3);
    expect(k.calls).toBeGreaterThan(before);
    expect(lm.store.kernels).toBe(k);
    useKernels("auto");
  });

  it("the wasm set's store puts its buffers in the WebAssembly memory", () => {
    const w = wasmKernels();
    if (!w) return;
    const store = new ParamStore({ kernels: w });
    store.declare("w", [3, 3], (v) => v.fill(1));
    expect(w.arena.holds(store.values)).toBe(true);
    expect(w.arena.holds(store.alloc(7))).toBe(true);
  });

  it("a layer cannot join a store with another kernel set", () => {
    const store = new ParamStore({ kernels: jsTiledKernels });
    expect(() => new Linear(2, 3, { store, kernels: counting() })).toThrow(/differ from the store's/);
  });
});
