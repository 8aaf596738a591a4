// Spectra of recurrent weight matrices, for the argument on exploding and vanishing gradients
// (Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural networks", §3.1).
// For an Elman RNN h_t = σ(W_hh h_{t-1} + ...), the Jacobian across steps is a product
//   ∂h_t/∂h_k = Π_{k<i≤t} W_hhᵀ diag(σ'(a_i)),   so   ‖∂h_t/∂h_k‖ ≤ (γ·σ_max(W_hh))^(t−k)
// where γ bounds |σ'| (1 for tanh and relu, 1/4 for the logistic sigmoid). σ_max < 1/γ therefore
// guarantees that gradients vanish exponentially; σ_max > 1/γ is necessary (not sufficient) for
// them to explode. The eigenvalues tell the same story for long products of one matrix: W^k
// grows or decays like ρ(W)^k, and ρ(W) ≤ σ_max(W).
//
//
// The eigenvalues and singular values come from tensor/linalg.ts (classical dense algorithms,
// float64, written out by hand; they run in browsers too).

import type { Recurrent } from "../nn/recurrent.js";
import { cellOfMode } from "../nn/cells.js";
import { eigenvalues, singularValues, spectralRadius } from "../tensor/linalg.js";

// ---------------------------------------------------------------------------------------------
// Recurrent layers
// ---------------------------------------------------------------------------------------------

/** The spectrum of one H×H block of one layer's and direction's weight_hh. */
export interface RecurrentSpectrum {
  layer: number;
  direction: number;
  /** which H×H block of weight_hh: "hh" for an Elman RNN; the gate blocks i,f,g,o (LSTM) or r,z,n (GRU), in PyTorch's row order */
  block: string;
  /** bound on |σ'| of the nonlinearity this block feeds: 1 for tanh/relu ("hh", LSTM g, GRU n), 1/4 for sigmoid gates (LSTM i,f,o; GRU r,z) */
  gamma: number;
  /** eigenvalues, sorted by modulus, largest first, conjugate pairs adjacent (+im first) */
  eigRe: number[];
  eigIm: number[];
  /** singular values, descending */
  singular: number[];
  /** spectral radius max |λ| (≤ sigmaMax) */
  radius: number;
  /** largest singular value ‖W‖₂ */
  sigmaMax: number;
  /** 1/gamma: σ_max below it guarantees vanishing; above it is necessary for explosion */
  bound: number;
  regime: "vanishing" | "may-explode";
}

/**
 * Spectra of every layer's and direction's W_hh blocks of a recurrent stack, ordered by layer,
 * direction (forward first), then block in PyTorch's row order.
 *
 * For an Elman RNN the block is W_hh itself and the regime is Pascanu et al.'s criterion:
 * σ_max(W_hh) < 1/γ ⇒ ‖∂h_t/∂h_k‖ ≤ (γσ_max)^(t−k) → 0 ("vanishing"); otherwise explosion is
 * possible but not implied ("may-explode"). For LSTM and GRU blocks the same test is a per-path
 * indicator only: the Jacobian of those cells is a sum of such terms plus the gated identity
 * path (c_t = f∘c_{t−1} + …, h_t = z∘h_{t−1} + …), which is what lets them carry gradients.
 *
 * @example
 * const rnn = new RNN({ inputSize: 3, hiddenSize: 8, seed: 1 });
 * recurrentSpectra(rnn)[0].regime // => "vanishing" or "may-explode"
 */
export function recurrentSpectra(rnn: Recurrent): RecurrentSpectrum[] {
  if (rnn.projSize > 0)
    throw new RangeError(`recurrentSpectra: LSTMs with projections (projSize ${rnn.projSize}) are not supported: their W_hh blocks are (H, P), not square`);
  const H = rnn.hiddenSize;
  const D = rnn.numDirections;
  const blocks = cellOfMode(rnn.mode).spectra; // the W_hh blocks and their γ (nn/cells.ts)
  const out: RecurrentSpectrum[] = [];
  for (let layer = 0; layer < rnn.numLayers; layer++) {
    for (let direction = 0; direction < D; direction++) {
      const w = rnn.params[layer * D + direction].weightHh.value;
      blocks.forEach(({ block: name, gamma }, j) => {
        const block = w.subarray(j * H * H, (j + 1) * H * H);
        const eig = eigenvalues(block, H);
        const singular = singularValues(block, H, H);
        const sigmaMax = singular[0];
        const bound = 1 / gamma;
        out.push({
          layer,
          direction,
          block: name,
          gamma,
          eigRe: Array.from(eig.re),
          eigIm: Array.from(eig.im),
          singular: Array.from(singular),
          radius: spectralRadius(eig),
          sigmaMax,
          bound,
          regime: sigmaMax < bound ? "vanishing" : "may-explode",
        });
      });
    }
  }
  return out;
}
