// Linear (fully connected) layer: y = x W^T + b, as torch.nn.Linear.
// N = rows (e.g. T*B positions), I = in_features, O = out_features.
// weight (O, I), bias (O). Backward: dx = dy W (assigned), dW += dy^T x, db += sum over rows of dy.

import type { Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { checkOptions, checkSize, MODULE_OPTION_KEYS, moduleContext, type ModuleOptions } from "./module.js";
import { uniformInit, type Parameter, type ParamStore } from "./params.js";

/**
 * out (N, O) = x (N, I) · weight^T (I, O) + bias (O). Overwrites out.
 */
export function linearForward(
  out: Float,
  outOff: number,
  x: Float,
  xOff: number,
  weight: Float,
  bias: Float | null,
  N: number,
  I: number,
  O: number,
  k: Kernels,
): void {
  k.gemm(false, true, N, O, I, 1, x, xOff, I, weight, 0, I, 0, out, outOff, O);
  if (bias) k.addRowVector(out, outOff, bias, 0, N, O);
}

/**
 * Backward of linearForward: dx (N, I) = dout · weight (assigned; skipped when dx is null),
 * dweight (O, I) += dout^T · x, dbias (O) += column sums of dout.
 */
export function linearBackward(
  dx: Float | null,
  dxOff: number,
  dweight: Float,
  dbias: Float | null,
  dout: Float,
  doutOff: number,
  x: Float,
  xOff: number,
  weight: Float,
  N: number,
  I: number,
  O: number,
  k: Kernels,
): void {
  if (dx) k.gemm(false, false, N, I, O, 1, dout, doutOff, O, weight, 0, I, 0, dx, dxOff, I);
  k.gemm(true, false, O, I, N, 1, dout, doutOff, O, x, xOff, I, 1, dweight, 0, I);
  if (dbias) k.sumRows(dbias, 0, dout, doutOff, N, O);
}

/** Options of a Linear layer. */
export interface LinearOptions extends ModuleOptions {
  /** Learn an additive bias. Default true. */
  bias?: boolean;
  /** Use this existing Parameter (shape (O, I)) as the weight instead of declaring one: weight tying. */
  tiedWeight?: Parameter;
}

const LINEAR_OPTION_KEYS: readonly string[] = [...MODULE_OPTION_KEYS, "bias", "tiedWeight"];

/**
 * A fully connected layer, `y = x W^T + b`, with PyTorch's names `weight` (O, I) and `bias` (O)
 * and PyTorch's default initialisation (uniform ±1/sqrt(I)).
 *
 * With `tiedWeight`, the layer uses another layer's Parameter as its weight; both layers'
 * backward passes accumulate into that one gradient, so it receives the sum of both uses.
 * @example
 * const lin = new Linear(3, 2, { dtype: "float64", seed: 1 });
 * const y = new Float64Array(2);
 * lin.forward(y, new Float64Array([1, 2, 3]), 1); // y = x W^T + b
 */
export class Linear {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly store: ParamStore;
  private readonly k: Kernels;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    checkOptions("Linear", options, LINEAR_OPTION_KEYS);
    checkSize("Linear: inFeatures", inFeatures);
    checkSize("Linear: outFeatures", outFeatures);
    const { store, name, k } = moduleContext(options);
    this.store = store;
    this.k = k;
    const bound = 1 / Math.sqrt(inFeatures);
    if (options.tiedWeight) {
      const w = options.tiedWeight;
      if (w.shape.length !== 2 || w.shape[0] !== outFeatures || w.shape[1] !== inFeatures) {
        throw new RangeError(`Linear: tied weight "${w.name}" has shape [${w.shape.join(", ")}], need [${outFeatures}, ${inFeatures}]`);
      }
      this.weight = w;
    } else {
      this.weight = store.declare(name("weight"), [outFeatures, inFeatures], uniformInit(bound));
    }
    this.bias = options.bias === false ? null : store.declare(name("bias"), [outFeatures], uniformInit(bound));
  }

  /** out (N, O) = x (N, I) W^T + b, from row offsets. Overwrites out. */
  forward(out: Float, x: Float, N: number, outOff = 0, xOff = 0): void {
    linearForward(out, outOff, x, xOff, this.weight.value, this.bias?.value ?? null, N, this.inFeatures, this.outFeatures, this.k);
  }

  /** Accumulates dW and db from dout (N, O) and the forward input x; assigns dx (N, I) unless null. */
  backward(dx: Float | null, dout: Float, x: Float, N: number, dxOff = 0, doutOff = 0, xOff = 0): void {
    linearBackward(
      dx,
      dxOff,
      this.weight.grad,
      this.bias?.grad ?? null,
      dout,
      doutOff,
      x,
      xOff,
      this.weight.value,
      N,
      this.inFeatures,
      this.outFeatures,
      this.k,
    );
  }
}
