// Small dense linear algebra in float64 for initialisation and analysis (not for the hot path).

import type { Rng } from "./rng.js";

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

// ---------------------------------------------------------------------------------------------
// Eigenvalues and singular values of dense float64 matrices, written out by hand (no dependency,
// no Node-only API: this also runs in browsers), classical algorithms with references:
//   eigenvalues     balance (EISPACK balanc), Householder reduction to upper Hessenberg form
//                   (Golub & Van Loan, Matrix Computations 4th ed., Alg. 7.4.2; EISPACK orthes),
//                   then the Francis implicit double-shift QR iteration with deflation, values
//                   only (GVL Alg. 7.5.1/7.5.2; EISPACK hqr, Numerical Recipes §11.6 hqr).
//   singular values Householder bidiagonalisation (GVL Alg. 5.4.2) and the implicit-shift
//                   Golub–Kahan SVD step on the bidiagonal (GVL Alg. 8.6.1/8.6.2; Golub & Reinsch 1970).
// analysis/spectra.ts applies them to recurrent weight matrices.

const EPS = Number.EPSILON;

/** Eigenvalues sorted by modulus, largest first; a complex-conjugate pair is adjacent, +im first. */
export interface Eigenvalues {
  re: Float64Array;
  im: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Eigenvalues of a general real matrix
// ---------------------------------------------------------------------------------------------

/**
 * Eigenvalues λ of a real n×n matrix A (row-major), the roots of det(A − λI) = 0.
 *
 * Steps: a copy of A is balanced (D⁻¹AD with D diagonal, powers of 2, so that rows and columns
 * have similar norms; exact in floating point), reduced to upper Hessenberg form H = QᵀAQ by
 * n−2 Householder reflections, then driven to real Schur form by Francis double-shift QR steps
 * H ← QᵀHQ whose shifts are the two eigenvalues of the trailing 2×2 block (implicit, in real
 * arithmetic). Whenever a subdiagonal entry becomes negligible, |h_{l,l−1}| ≤ ε(|h_{l−1,l−1}| + |h_{ll}|),
 * the problem splits and 1×1 (a real λ) or 2×2 blocks (a real or conjugate pair) deflate off
 * the bottom. The computed λ are exact for a matrix within ~ε‖A‖ of A (backward stable); an
 * eigenvalue's own error is that times its condition number (a Jordan block of size k is only
 * good to ~ε^(1/k)).
 *
 * @param a the matrix, row-major, length n·n; not modified.
 * @throws RangeError on a bad size or a non-finite entry; Error if the QR iteration has not
 *   converged after 30·n steps in all (EISPACK hqr's budget).
 * @example
 * eigenvalues([0, -1, 1, 0], 2) // => { re: [0, 0], im: [1, -1] }
 */
export function eigenvalues(a: ArrayLike<number>, n: number): Eigenvalues {
  checkMatrix("eigenvalues", a, n, n);
  const h = Float64Array.from(a);
  balance(h, n);
  hessenberg(h, n);
  return sortEigenvalues(hqr(h, n));
}

/** max |λ|: the spectral radius ρ(A), the asymptotic growth rate of ‖A^k‖^(1/k). 0 for an empty spectrum. */
export function spectralRadius(e: Eigenvalues): number {
  let r = 0;
  for (let i = 0; i < e.re.length; i++) r = Math.max(r, Math.hypot(e.re[i], e.im[i]));
  return r;
}

function checkMatrix(what: string, a: ArrayLike<number>, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new RangeError(`${what}: sizes must be non-negative integers, got ${rows}x${cols}`);
  }
  if (a.length !== rows * cols) throw new RangeError(`${what}: expected ${rows}*${cols} = ${rows * cols} elements, got ${a.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new RangeError(`${what}: element ${i} is ${a[i]} (the matrix must be finite)`);
  }
}

/**
 * Balancing (Parlett & Reinsch 1969; EISPACK balanc, NR §11.5 balanc): repeatedly scale row i
 * by 1/f and column i by f, f a power of 2, until each row and column have comparable 1-norms.
 * A similarity transform, exact in binary arithmetic, that shrinks ‖A‖ and with it the rounding
 * errors of the QR iteration (which are relative to ‖A‖).
 */
function balance(a: Float64Array, n: number): void {
  const RADIX = 2;
  const SQRDX = RADIX * RADIX;
  let done = false;
  while (!done) {
    done = true;
    for (let i = 0; i < n; i++) {
      let r = 0;
      let c = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        c += Math.abs(a[j * n + i]);
        r += Math.abs(a[i * n + j]);
      }
      if (c === 0 || r === 0) continue;
      const s = c + r;
      let f = 1;
      let g = r / RADIX;
      while (c < g) {
        f *= RADIX;
        c *= SQRDX;
      }
      g = r * RADIX;
      while (c > g) {
        f /= RADIX;
        c /= SQRDX;
      }
      if ((c + r) / f < 0.95 * s) {
        done = false;
        for (let j = 0; j < n; j++) a[i * n + j] /= f;
        for (let j = 0; j < n; j++) a[j * n + i] *= f;
      }
    }
  }
}

/**
 * A Householder reflector P = I − β v vᵀ with P x = α e₁ (GVL Alg. 5.1.1, with the sign of α
 * opposite to x₁ so that v₁ = x₁ − α does not cancel). Overwrites v[lo..hi) (holding x) with v,
 * scaled by 1/max|x| against overflow (β v vᵀ does not depend on the scaling), and returns [α, β];
 * [0, 0] (P = I) when x = 0.
 */
function householder(v: Float64Array, lo: number, hi: number): [alpha: number, beta: number] {
  let scale = 0;
  for (let i = lo; i < hi; i++) scale = Math.max(scale, Math.abs(v[i]));
  if (scale === 0) return [0, 0];
  let sigma = 0;
  for (let i = lo; i < hi; i++) {
    v[i] /= scale;
    sigma += v[i] * v[i];
  }
  const alpha = v[lo] >= 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
  v[lo] -= alpha;
  // vᵀv = 2(σ − α x₁) = −2 α v₁, so β = 2 / vᵀv = 1 / (−α v₁)
  return [alpha * scale, 1 / (-alpha * v[lo])];
}

/**
 * Reduction to upper Hessenberg form in place, H = QᵀAQ (GVL Alg. 7.4.2; EISPACK orthes):
 * for k = 0..n−3 the reflector P_k that zeroes A[k+2.., k] is applied from the left (rows
 * k+1..) and from the right (columns k+1..). About 10n³/3 flops; every inner loop runs along
 * a row of the row-major array.
 */
function hessenberg(a: Float64Array, n: number): void {
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    for (let i = k + 1; i < n; i++) v[i] = a[i * n + k];
    const [alpha, beta] = householder(v, k + 1, n);
    if (beta === 0) continue;
    a[(k + 1) * n + k] = alpha;
    for (let i = k + 2; i < n; i++) a[i * n + k] = 0;
    // left: A[k+1.., k+1..] −= β v (vᵀ A[k+1.., k+1..])
    w.fill(0, k + 1, n);
    for (let i = k + 1; i < n; i++) {
      const vi = v[i];
      const row = i * n;
      for (let j = k + 1; j < n; j++) w[j] += vi * a[row + j];
    }
    for (let i = k + 1; i < n; i++) {
      const bvi = beta * v[i];
      const row = i * n;
      for (let j = k + 1; j < n; j++) a[row + j] -= bvi * w[j];
    }
    // right: A[0.., k+1..] −= β (A[0.., k+1..] v) vᵀ
    for (let r = 0; r < n; r++) {
      const row = r * n;
      let s = 0;
      for (let j = k + 1; j < n; j++) s += a[row + j] * v[j];
      s *= beta;
      for (let j = k + 1; j < n; j++) a[row + j] -= s * v[j];
    }
  }
}

/** A computed eigenvalue, or a conjugate pair re ± i·im (im > 0). */
interface Root {
  re: number;
  im: number;
}

/** |a| with the sign of b (Fortran's SIGN). */
function sign(a: number, b: number): number {
  return b >= 0 ? Math.abs(a) : -Math.abs(a);
}

/**
 * Eigenvalues of an upper Hessenberg matrix (destroyed) by the Francis implicit double-shift QR
 * iteration, eigenvalues only: a 0-based transcription of EISPACK hqr (Numerical Recipes §11.6),
 * GVL Alg. 7.5.1 (the double-shift step, a 3×3 reflector bulge chased down the subdiagonal) inside
 * Alg. 7.5.2 (deflation). Only the active window rows/columns l..nn are updated, since no Schur
 * vectors are wanted. After 10 and 20 (and every further 10) steps without a deflation an
 * exceptional ad hoc shift breaks cycles (e.g. permutation matrices, for which the standard
 * shifts are stationary).
 */
function hqr(h: Float64Array, n: number): Root[] {
  const roots: Root[] = [];
  let anorm = 0; // ‖H‖₁-ish, the scale for exactly-zero diagonal pairs
  for (let i = 0; i < n; i++) for (let j = Math.max(i - 1, 0); j < n; j++) anorm += Math.abs(h[i * n + j]);
  let budget = 30 * n;
  let nn = n - 1; // last row of the active (unreduced) part
  let t = 0; // sum of exceptional shifts subtracted from the diagonal
  let p = 0,
    q = 0,
    r = 0,
    s = 0,
    w = 0,
    x = 0,
    y = 0,
    z = 0;
  while (nn >= 0) {
    let its = 0;
    let l: number;
    do {
      // l: top of the trailing unreduced block (a negligible h[l][l-1] is set to 0)
      for (l = nn; l >= 1; l--) {
        s = Math.abs(h[(l - 1) * n + l - 1]) + Math.abs(h[l * n + l]);
        if (s === 0) s = anorm;
        if (Math.abs(h[l * n + l - 1]) <= EPS * s) {
          h[l * n + l - 1] = 0;
          break;
        }
      }
      x = h[nn * n + nn];
      if (l === nn) {
        roots.push({ re: x + t, im: 0 }); // 1×1 block
        nn--;
      } else {
        y = h[(nn - 1) * n + nn - 1];
        w = h[nn * n + nn - 1] * h[(nn - 1) * n + nn];
        if (l === nn - 1) {
          // 2×2 block [[y, ·], [·, x]]: λ = x + p ± sqrt(p² + w), p = (y − x)/2
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p); // the root of larger modulus first, the other from the product (no cancellation)
            roots.push({ re: x + z, im: 0 }, { re: z !== 0 ? x - w / z : x + z, im: 0 });
          } else {
            roots.push({ re: x + p, im: z });
          }
          nn -= 2;
        } else {
          if (budget === 0) throw new Error(`eigenvalues: the QR iteration did not converge in 30*${n} steps`);
          budget--;
          if (its > 0 && its % 10 === 0) {
            // exceptional shift (EISPACK hqr)
            t += x;
            for (let i = 0; i <= nn; i++) h[i * n + i] -= x;
            s = Math.abs(h[nn * n + nn - 1]) + Math.abs(h[(nn - 1) * n + nn - 2]);
            x = y = 0.75 * s;
            w = -0.4375 * s * s;
          }
          its++;
          // m: look for two consecutive small subdiagonal elements, so the bulge can start at m;
          // (p, q, r) is the first column of (H − s₁I)(H − s₂I) from row m, s₁ + s₂ = x + y, s₁s₂ = xy − w
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = h[m * n + m];
            r = x - z;
            s = y - z;
            p = (r * s - w) / h[(m + 1) * n + m] + h[m * n + m + 1];
            q = h[(m + 1) * n + m + 1] - z - r - s;
            r = h[(m + 2) * n + m + 1];
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(h[m * n + m - 1]) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(h[(m - 1) * n + m - 1]) + Math.abs(z) + Math.abs(h[(m + 1) * n + m + 1]));
            if (u <= EPS * v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            h[i * n + i - 2] = 0;
            if (i !== m + 2) h[i * n + i - 3] = 0;
          }
          // the double QR step: chase the bulge from row m to nn with 3×3 (last: 2×2) reflectors
          for (let k = m; k <= nn - 1; k++) {
            const last = k === nn - 1;
            if (k !== m) {
              p = h[k * n + k - 1];
              q = h[(k + 1) * n + k - 1];
              r = last ? 0 : h[(k + 2) * n + k - 1];
              x = Math.abs(p) + Math.abs(q) + Math.abs(r);
              if (x !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            s = sign(Math.sqrt(p * p + q * q + r * r), p);
            if (s === 0) continue;
            if (k === m) {
              if (l !== m) h[k * n + k - 1] = -h[k * n + k - 1];
            } else {
              h[k * n + k - 1] = -s * x;
            }
            p += s;
            x = p / s;
            y = q / s;
            z = r / s;
            q /= p;
            r /= p;
            // rows k..k+2, columns k..nn
            const r0 = k * n,
              r1 = r0 + n,
              r2 = r1 + n;
            for (let j = k; j <= nn; j++) {
              let pj = h[r0 + j] + q * h[r1 + j];
              if (!last) {
                pj += r * h[r2 + j];
                h[r2 + j] -= pj * z;
              }
              h[r1 + j] -= pj * y;
              h[r0 + j] -= pj * x;
            }
            // columns k..k+2, rows l..min(nn, k+3)
            const iEnd = Math.min(nn, k + 3);
            for (let i = l; i <= iEnd; i++) {
              const ri = i * n + k;
              let pi = x * h[ri] + y * h[ri + 1];
              if (!last) {
                pi += z * h[ri + 2];
                h[ri + 2] -= pi * r;
              }
              h[ri + 1] -= pi * q;
              h[ri] -= pi;
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  return roots;
}

/** Sorts by modulus, largest first (ties: larger real part, then larger imaginary part), pairs expanded +im first. */
function sortEigenvalues(roots: Root[]): Eigenvalues {
  const mod = (z: Root): number => Math.hypot(z.re, z.im);
  roots.sort((u, v) => mod(v) - mod(u) || v.re - u.re || v.im - u.im);
  const count = roots.reduce((c, z) => c + (z.im !== 0 ? 2 : 1), 0);
  const re = new Float64Array(count);
  const im = new Float64Array(count);
  let i = 0;
  for (const z of roots) {
    re[i] = z.re;
    im[i++] = z.im;
    if (z.im !== 0) {
      re[i] = z.re;
      im[i++] = -z.im;
    }
  }
  return { re, im };
}

// ---------------------------------------------------------------------------------------------
// Singular values
// ---------------------------------------------------------------------------------------------

/**
 * Singular values σ₁ ≥ σ₂ ≥ … ≥ σ_min(rows,cols) ≥ 0 of a real rows×cols matrix A (row-major):
 * the square roots of the eigenvalues of AᵀA, σ₁ = ‖A‖₂ = max ‖Ax‖/‖x‖.
 *
 * Golub–Kahan–Reinsch: A (or Aᵀ when rows < cols, which has the same singular values) is
 * scaled by 1/max|a_ij|, reduced to upper bidiagonal B = UᵀAV by alternating Householder
 * reflections (GVL Alg. 5.4.2, ~4mn² − 4n³/3 flops), and B is diagonalised by implicit-shift
 * QR steps on BᵀB carried out on B itself (GVL Alg. 8.6.1, Wilkinson shift from the trailing
 * 2×2 of BᵀB), splitting when a superdiagonal entry is negligible, |e_i| ≤ ε(|d_i| + |d_{i+1}|),
 * and chasing out a negligible diagonal entry, |d_i| ≤ ε‖B‖, with Givens rotations (GVL Alg. 8.6.2).
 * Backward stable: each σ is off by at most ~ε·σ₁·(small multiple of n), i.e. ~1e-13 relative
 * for well-scaled matrices (it does not have the high relative accuracy of one-sided Jacobi
 * for singular values many orders below σ₁).
 *
 * @param a the matrix, row-major, length rows·cols; not modified.
 * @returns min(rows, cols) values, descending.
 * @throws RangeError on a bad size or a non-finite entry; Error if 30·min(rows, cols) QR steps do not suffice.
 * @example
 * singularValues([3, 0, 0, 0, -2, 0], 2, 3) // => [3, 2]
 */
export function singularValues(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  checkMatrix("singularValues", a, rows, cols);
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  if (n === 0 || scale === 0) return new Float64Array(n);
  // work on the m×n (m ≥ n) matrix A or Aᵀ, scaled so that the largest entry is 1
  const b = new Float64Array(m * n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) b[tall ? r * n + c : c * n + r] = a[r * cols + c] / scale;
  }
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  bidiagonalize(b, m, n, d, e);
  bidiagonalSvd(d, e);
  for (let i = 0; i < n; i++) d[i] = Math.abs(d[i]) * scale;
  return d.sort().reverse();
}

/**
 * Householder bidiagonalisation of the m×n (m ≥ n) row-major matrix a (destroyed), GVL Alg. 5.4.2:
 * for k = 0..n−1 a left reflector zeroes a[k+1.., k] (leaving d_k on the diagonal) and, for
 * k ≤ n−3, a right reflector zeroes a[k, k+2..] (leaving e_k on the superdiagonal).
 */
function bidiagonalize(a: Float64Array, m: number, n: number, d: Float64Array, e: Float64Array): void {
  const v = new Float64Array(Math.max(m, n));
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // left: column k, rows k..m−1; applied to columns k+1..n−1
    for (let i = k; i < m; i++) v[i] = a[i * n + k];
    const [alpha, beta] = householder(v, k, m);
    d[k] = beta === 0 ? 0 : alpha;
    if (beta !== 0 && k + 1 < n) {
      w.fill(0, k + 1, n);
      for (let i = k; i < m; i++) {
        const vi = v[i];
        const row = i * n;
        for (let j = k + 1; j < n; j++) w[j] += vi * a[row + j];
      }
      for (let i = k; i < m; i++) {
        const bvi = beta * v[i];
        const row = i * n;
        for (let j = k + 1; j < n; j++) a[row + j] -= bvi * w[j];
      }
    }
    if (k + 1 >= n) break;
    if (k + 2 === n) {
      e[k] = a[k * n + k + 1]; // a single entry: nothing to reflect
      continue;
    }
    // right: row k, columns k+1..n−1; applied to rows k+1..m−1
    for (let j = k + 1; j < n; j++) v[j] = a[k * n + j];
    const [alphaR, betaR] = householder(v, k + 1, n);
    e[k] = betaR === 0 ? 0 : alphaR;
    if (betaR === 0) continue;
    for (let i = k + 1; i < m; i++) {
      const row = i * n;
      let s = 0;
      for (let j = k + 1; j < n; j++) s += a[row + j] * v[j];
      s *= betaR;
      for (let j = k + 1; j < n; j++) a[row + j] -= s * v[j];
    }
  }
}

/**
 * Diagonalises the upper bidiagonal matrix with diagonal d and superdiagonal e in place (e → 0;
 * |d| are then the singular values, unsorted, possibly negative): GVL Alg. 8.6.2 (Golub–Reinsch),
 * values only.
 */
function bidiagonalSvd(d: Float64Array, e: Float64Array): void {
  const n = d.length;
  let anorm = 0;
  for (let i = 0; i < n; i++) anorm = Math.max(anorm, Math.abs(d[i]) + (i < n - 1 ? Math.abs(e[i]) : 0));
  let budget = 30 * n;
  let q = n - 1; // the bottom of the unreduced block
  for (;;) {
    for (let i = 0; i < q; i++) {
      if (Math.abs(e[i]) <= EPS * (Math.abs(d[i]) + Math.abs(d[i + 1]))) e[i] = 0;
    }
    while (q > 0 && e[q - 1] === 0) q--;
    if (q === 0) return;
    let p = q - 1; // the top of the unreduced block p..q (e[p..q-1] all nonzero)
    while (p > 0 && e[p - 1] !== 0) p--;
    let zeroed = false;
    for (let i = p; i <= q && !zeroed; i++) {
      if (Math.abs(d[i]) > EPS * anorm) continue;
      d[i] = 0;
      if (i < q) zeroRow(d, e, i, q);
      else zeroColumn(d, e, p, q);
      zeroed = true;
    }
    if (zeroed) continue;
    if (budget-- === 0) throw new Error(`singularValues: the bidiagonal QR iteration did not converge in 30*${n} steps`);
    golubKahanStep(d, e, p, q);
  }
}

/** The rotation [c s; −s c] with c·f + s·g = r, −s·f + c·g = 0 (GVL Alg. 5.1.3 up to sign); [1, 0, 0] for f = g = 0. */
function givens(f: number, g: number): [c: number, s: number, r: number] {
  if (g === 0) return [1, 0, f];
  const r = Math.hypot(f, g);
  return [f / r, g / r, r];
}

/**
 * d_i = 0 with i < q: row i holds only e_i. Rotations of rows (i, j), j = i+1..q, from the
 * left move that entry right along row i until it falls off the end (GVL §8.6.2).
 */
function zeroRow(d: Float64Array, e: Float64Array, i: number, q: number): void {
  let f = e[i]; // the entry of row i in column j
  e[i] = 0;
  for (let j = i + 1; j <= q && f !== 0; j++) {
    const [c, s, r] = givens(d[j], f);
    d[j] = r;
    if (j < q) {
      f = -s * e[j];
      e[j] *= c;
    }
  }
}

/**
 * d_q = 0: column q holds only e_{q−1}. Rotations of columns (j, q), j = q−1 down to p, from
 * the right move that entry up column q until it falls off the top of the block.
 */
function zeroColumn(d: Float64Array, e: Float64Array, p: number, q: number): void {
  let f = e[q - 1]; // the entry of column q in row j
  e[q - 1] = 0;
  for (let j = q - 1; j >= p && f !== 0; j--) {
    const [c, s, r] = givens(d[j], f);
    d[j] = r;
    if (j > p) {
      f = -s * e[j - 1];
      e[j - 1] *= c;
    }
  }
}

/**
 * One implicit-shift QR step on BᵀB for the unreduced block p..q, carried out on B (GVL Alg.
 * 8.6.1): the shift μ is the eigenvalue of the trailing 2×2 of BᵀB nearer its last diagonal
 * entry (Wilkinson); a right rotation of columns (p, p+1) makes the first column of BᵀB − μI
 * a multiple of e₁, and alternating left and right rotations chase the resulting bulge down.
 */
function golubKahanStep(d: Float64Array, e: Float64Array, p: number, q: number): void {
  const m = q - 1;
  const t11 = d[m] * d[m] + (m > p ? e[m - 1] * e[m - 1] : 0);
  const t12 = d[m] * e[m];
  const t22 = d[q] * d[q] + e[m] * e[m];
  const delta = (t11 - t22) / 2;
  const den = delta + sign(Math.hypot(delta, t12), delta);
  const mu = den === 0 ? t22 : t22 - (t12 * t12) / den;
  let y = d[p] * d[p] - mu;
  let z = d[p] * e[p];
  for (let k = p; k < q; k++) {
    // right rotation of columns (k, k+1): zeroes z, the bulge at (k−1, k+1) (k > p)
    let [c, s, r] = givens(y, z);
    if (k > p) e[k - 1] = r;
    const dk = c * d[k] + s * e[k];
    const ek = -s * d[k] + c * e[k];
    const bulge = s * d[k + 1]; // at (k+1, k)
    const dk1 = c * d[k + 1];
    // left rotation of rows (k, k+1): zeroes the bulge at (k+1, k)
    [c, s, r] = givens(dk, bulge);
    d[k] = r;
    e[k] = c * ek + s * dk1;
    d[k + 1] = -s * ek + c * dk1;
    if (k + 1 < q) {
      y = e[k];
      z = s * e[k + 1]; // the new bulge at (k, k+2)
      e[k + 1] *= c;
    }
  }
}
