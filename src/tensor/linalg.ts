// Small dense linear algebra in float64 for initialisation and analysis (not for the hot path).

import { Rng } from "./rng.js";

/**
 * A random (rows x cols) matrix with orthonormal columns (rows >= cols) or rows (rows < cols),
 * row-major, as torch.nn.init.orthogonal_: the Q factor of a standard normal matrix, with the
 * signs fixed so that R has a positive diagonal (modified Gram-Schmidt, applied twice).
 */
export function randomOrthogonal(rows: number, cols: number, rng: Rng, gain = 1): Float64Array {
  const tall = rows >= cols;
  const m = tall ? rows : cols; // length of the vectors orthonormalised
  const n = tall ? cols : rows; // how many
  const q = Array.from({ length: n }, () => Float64Array.from({ length: m }, () => rng.normal()));
  for (let j = 0; j < n; j++) {
    const v = q[j];
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        let d = 0;
        for (let k = 0; k < m; k++) d += q[i][k] * v[k];
        for (let k = 0; k < m; k++) v[k] -= d * q[i][k];
      }
    }
    let norm = 0;
    for (let k = 0; k < m; k++) norm += v[k] * v[k];
    norm = Math.sqrt(norm);
    for (let k = 0; k < m; k++) v[k] /= norm;
  }
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (tall ? q[c][r] : q[r][c]);
  }
  return out;
}
