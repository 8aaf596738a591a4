// Pascanu, Mikolov & Bengio (2013), §3.3: a regulariser that keeps the error signal's norm as it
// travels back in time, against vanishing gradients. With x_k the state after step k and
// ∂E/∂x_{k+1} the gradient reaching step k+1,
//
//   Ω = Σ_k ( ‖∂E/∂x_{k+1} · ∂x_{k+1}/∂x_k‖ / ‖∂E/∂x_{k+1}‖ − 1 )²          (eq. 9)
//
// and, as in the paper, ∂E/∂x_{k+1} is treated as a constant when Ω is differentiated (eq. 10).
// For the Elman RNN h_k = σ(a_k), a_k = W_ih x_k + W_hh h_{k-1} + b, in row form (B, H):
//
//   d_k = g_k ⊙ σ'(a_k),   u_k = d_k W_hh   (the gradient g_k = ∂E/∂h_k carried one step back)
//   r_k = ‖u_k‖ / ‖g_k‖,   Ω = Σ_k (r_k − 1)²                  (norms over the whole batch)
//
// Its gradient has a direct part through W_hh in u_k, and a part through σ'(a_k), which depends
// on h_k and so on every weight and earlier state: it is a gradient with respect to the layer's
// outputs h_k, which a second backward pass through time carries to the weights:
//
//   ū_k = 2 (r_k − 1) u_k / (‖g_k‖ ‖u_k‖)
//   ∂Ω/∂W_hh (direct) = Σ_k d_k^T ū_k
//   ∂Ω/∂h_k = (ū_k W_hh^T) ⊙ g_k ⊙ ∂σ'(a_k)/∂h_k = (ū_k W_hh^T) ⊙ g_k ⊙ (−2 h_k)   (tanh: σ' = 1 − h²; relu: 0)
//
// T = steps, B = batch, H = hidden.

import type { Recurrent, RecurrentCache } from "../nn/recurrent.js";
import type { Float } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";

/**
 * Pascanu's Ω for a one-layer, one-direction Elman RNN, with its gradient. Scratch buffers are
 * allocated once per batch size.
 * @example
 * const omega = new OmegaRegularizer(rnn, kernels);
 * cache.stateGrads = omega.stateGrads(T, B);   // before the loss's backward
 * rnn.backwardRaw(cache, dOut, dState);         // the loss's gradients, recording g_k
 * const value = omega.backward(cache, lambda, dOutOmega); // W_hh.grad += λ ∂Ω/∂W_hh (direct); dOutOmega = λ ∂Ω/∂h
 * rnn.forwardRaw(cache, x, T, null, null); rnn.backwardRaw(cache, dOutOmega, null); // the rest of λ ∂Ω/∂θ
 */
export class OmegaRegularizer {
  private B = 0;
  private grads: Float | null = null;
  private d: Float | null = null;
  private u: Float | null = null;
  private e: Float | null = null;

  constructor(
    readonly rnn: Recurrent,
    private readonly k: Kernels,
  ) {
    if (rnn.mode !== "RNN_TANH" && rnn.mode !== "RNN_RELU") throw new RangeError(`Pascanu's Ω regulariser is for Elman RNNs (tanh or relu), not ${rnn.mode}`);
    if (rnn.numLayers !== 1 || rnn.numDirections !== 1) throw new RangeError("Pascanu's Ω regulariser is for a single-layer, unidirectional RNN");
  }

  /** The (T, B, H) buffer to set as `cache.stateGrads` before the loss's backward. */
  stateGrads(T: number, B: number): Float {
    const H = this.rnn.hiddenSize;
    if (!this.grads || this.B !== B || this.grads.length < T * B * H) {
      const store = this.rnn.store;
      this.B = B;
      this.grads = store.alloc(T * B * H);
      this.d = store.alloc(B * H);
      this.u = store.alloc(B * H);
      this.e = store.alloc(B * H);
    }
    return this.grads;
  }

  /**
   * Ω of the last forward and backward on `c` (whose backward filled `c.stateGrads`). Adds
   * λ·(the direct part of ∂Ω/∂W_hh) into W_hh's gradient and assigns λ·∂Ω/∂h_k into `dOut`
   * (T, B, H), for a second backward pass. Returns Ω (without λ).
   */
  backward(c: RecurrentCache, lambda: number, dOut: Float): number {
    const { T, B } = c;
    const H = this.rnn.hiddenSize;
    const BH = B * H;
    const G = c.stateGrads;
    if (!G || G !== this.grads || this.B !== B) throw new Error("OmegaRegularizer.backward: set cache.stateGrads = omega.stateGrads(T, B) before the backward");
    if (dOut.length < T * BH) throw new RangeError(`OmegaRegularizer.backward: dOut needs (T, B, H) = ${T}*${B}*${H} elements`);
    const k = this.k;
    const p = this.rnn.params[0].weightHh;
    const W = p.value;
    const hs = c.direction(0).hs;
    const tanh = this.rnn.mode === "RNN_TANH";
    const d = this.d!,
      u = this.u!,
      e = this.e!;
    let omega = 0;
    dOut.fill(0, 0, T * BH);
    for (let t = 0; t < T; t++) {
      const gOff = t * BH;
      const hOff = (t + 1) * BH; // h_t, the state after step t
      const ng = Math.sqrt(k.sumSquares(G, gOff, BH));
      if (ng === 0) continue;
      // d = g ⊙ σ'(a_t), u = d W_hh: the gradient carried back across step t
      for (let i = 0; i < BH; i++) {
        const h = hs[hOff + i];
        d[i] = G[gOff + i] * (tanh ? 1 - h * h : h > 0 ? 1 : 0);
      }
      k.gemm(false, false, B, H, H, 1, d, 0, H, W, 0, H, 0, u, 0, H);
      const nu = Math.sqrt(k.sumSquares(u, 0, BH));
      const r = nu / ng;
      omega += (r - 1) * (r - 1);
      if (nu === 0 || lambda === 0) continue;
      // ū = λ 2(r-1) u / (‖g‖‖u‖), in place over u
      k.scale(u, 0, (lambda * 2 * (r - 1)) / (ng * nu), BH);
      k.gemm(true, false, H, H, B, 1, d, 0, H, u, 0, H, 1, p.grad, 0, H); // W_hh.grad += d^T ū
      if (!tanh) continue; // relu: σ' is piecewise constant
      k.gemm(false, true, B, H, H, 1, u, 0, H, W, 0, H, 0, e, 0, H); // e = ū W_hh^T = ∂Ω/∂d
      for (let i = 0; i < BH; i++) dOut[gOff + i] = e[i] * G[gOff + i] * -2 * hs[hOff + i];
    }
    return omega;
  }
}
