import { describe, expect, it } from "vitest";
import { Embedding } from "./embedding.js";
import { Linear } from "./linear.js";
import { MLP } from "./mlp.js";
import { checkOptions, MODULE_OPTION_KEYS } from "./module.js";

describe("checkOptions", () => {
  it("passes known keys (undefined values included) and refuses an unknown one, naming it and the known ones", () => {
    expect(() => checkOptions("Thing", { a: 1, b: undefined }, ["a", "b"])).not.toThrow();
    expect(() => checkOptions("Thing", { a: 1, c: undefined }, ["a", "b"])).toThrow(new RangeError('Thing: unknown option "c" (known options: a, b)'));
  });

  it("Linear, Embedding and MLP refuse unknown options", () => {
    expect(() => new Linear(2, 3, { bias: false, seed: 1 })).not.toThrow();
    expect(() => new Linear(2, 3, { in_features: 2 } as never)).toThrow(
      /Linear: unknown option "in_features" \(known options: store, prefix, dtype, seed, kernels, bias, tiedWeight\)/,
    );
    expect(() => new Embedding(4, 2, { paddingIdx: 0 } as never)).toThrow(/Embedding: unknown option "paddingIdx" \(known options: .*weightInit\)/);
    expect(() => new MLP({ sizes: [2, 1], activations: "relu" } as never)).toThrow(/MLP: unknown option "activations" \(known options: .*sizes, activation\)/);
    expect(MODULE_OPTION_KEYS).toEqual(["store", "prefix", "dtype", "seed", "kernels"]);
  });
});
