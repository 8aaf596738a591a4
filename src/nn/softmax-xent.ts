// Softmax cross-entropy, fused and numerically stable, as torch.nn.functional.cross_entropy with
// reduction="mean": loss = mean over counted positions of -log softmax(z_n)[t_n], where positions
// whose target equals ignoreIndex are not counted. N = positions, V = classes.
// The forward keeps softmax(z) in `probs`; the backward turns it into dz = (p - onehot(t)) * dloss / count.

import type { Float, Ids } from "../tensor/dtype.js";
import type { Kernels } from "../tensor/kernels.js";
import { checkIds } from "./embedding.js";

/** PyTorch's default ignore_index. */
export const IGNORE_INDEX = -100;

/**
 * Mean cross-entropy of logits (N, V) against targets (N); fills probs (N, V) for the backward.
 * Returns `{ loss, count }`, count = positions not ignored. Like PyTorch, loss is NaN when every
 * position is ignored. Throws a RangeError on a target outside [0, V) that is not ignoreIndex.
 */
export function crossEntropyForward(
  probs: Float,
  logits: Float,
  targets: Ids,
  N: number,
  V: number,
  k: Kernels,
  ignoreIndex = IGNORE_INDEX,
  pOff = 0,
  lOff = 0,
  tOff = 0,
): { loss: number; count: number } {
  checkIds("crossEntropy: target", targets, tOff, N, V, ignoreIndex);
  let count = 0;
  for (let n = 0; n < N; n++) if (targets[tOff + n] !== ignoreIndex) count++;
  const sum = k.softmaxXentForward(probs, pOff, logits, lOff, targets, tOff, N, V, ignoreIndex);
  return { loss: sum / count, count };
}

/** dlogits (N, V) = (probs - onehot(targets)) * dloss / count (assigned; 0 on ignored rows; may alias probs). */
export function crossEntropyBackward(
  dlogits: Float,
  probs: Float,
  targets: Ids,
  N: number,
  V: number,
  count: number,
  dloss: number,
  k: Kernels,
  ignoreIndex = IGNORE_INDEX,
  dOff = 0,
  pOff = 0,
  tOff = 0,
): void {
  k.softmaxXentBackward(dlogits, dOff, probs, pOff, targets, tOff, N, V, ignoreIndex, count > 0 ? dloss / count : 0);
}
