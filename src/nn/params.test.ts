// ParamStore's options: an unknown key is refused, naming it.

import { describe, expect, it } from "vitest";
import { jsKernels } from "../tensor/js-kernels.js";
import { PARAM_STORE_OPTION_KEYS, ParamStore } from "./params.js";

describe("ParamStore options", () => {
  it("refuses an unknown key, naming it and the known ones", () => {
    expect(() => new ParamStore({ dtyp: "float64" } as never)).toThrow(/^ParamStore: unknown option "dtyp" \(known options: dtype, seed, kernels\)/);
    expect(PARAM_STORE_OPTION_KEYS).toEqual(["dtype", "seed", "kernels"]);
  });

  it("takes every known one", () => {
    const s = new ParamStore({ dtype: "float64", seed: 3, kernels: jsKernels });
    expect([s.dtype, s.kernels]).toEqual(["float64", jsKernels]);
  });
});
