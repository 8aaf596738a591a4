// Elementwise nonlinearities as forward/backward pairs. The backward takes the forward *output*
// y (all three derivatives are cheap in y: tanh' = 1 - y^2, sigmoid' = y(1 - y), relu' = [y > 0]),
// so no pre-activation needs to be kept. Backward assigns dx = dy * act'(y); dx may alias dy.

import type { Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";

/** The nonlinearities rnnlab's layers use. */
export type Activation = "tanh" | "sigmoid" | "relu";

/** The derivative bound γ = max |act'|, used by the lecture's vanishing-gradient bound: 1 for tanh and relu, 1/4 for sigmoid. */
export const ACTIVATION_GAMMA: Readonly<Record<Activation, number>> = { tanh: 1, sigmoid: 0.25, relu: 1 };

/** y = act(x) over n elements (y may alias x). */
export function activationForward(act: Activation, y: Float, yOff: number, x: Float, xOff: number, n: number, k: Kernels): void {
  switch (act) {
    case "tanh":
      return k.tanhForward(y, yOff, x, xOff, n);
    case "sigmoid":
      return k.sigmoidForward(y, yOff, x, xOff, n);
    case "relu":
      return k.reluForward(y, yOff, x, xOff, n);
  }
}

/** dx = dy * act'(x), computed from the forward output y (dx may alias dy). */
export function activationBackward(act: Activation, dx: Float, dxOff: number, dy: Float, dyOff: number, y: Float, yOff: number, n: number, k: Kernels): void {
  switch (act) {
    case "tanh":
      return k.tanhBackward(dx, dxOff, dy, dyOff, y, yOff, n);
    case "sigmoid":
      return k.sigmoidBackward(dx, dxOff, dy, dyOff, y, yOff, n);
    case "relu":
      return k.reluBackward(dx, dxOff, dy, dyOff, y, yOff, n);
  }
}

/** Throws a RangeError unless `act` is one of `allowed`. */
export function checkActivation(what: string, act: string, allowed: readonly Activation[]): asserts act is Activation {
  if (!(allowed as readonly string[]).includes(act)) {
    throw new RangeError(`${what}: nonlinearity must be one of ${allowed.join(", ")}, got "${act}"`);
  }
}
