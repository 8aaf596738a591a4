// The plain-TypeScript reference kernels: straightforward loops, the algorithmic reference that
// every faster implementation is checked against, and the fallback wherever a faster one is
// missing. Works on Float32Array and Float64Array alike. Loop orders are chosen so the innermost
// loop walks memory contiguously; nothing cleverer lives here on purpose.

import type { Float } from "./dtype.js";
import { gemmTiled } from "./gemm-tiled.js";
import type { Kernels } from "./kernels.js";

function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float,
  aOff: number,
  lda: number,
  B: Float,
  bOff: number,
  ldb: number,
  beta: number,
  C: Float,
  cOff: number,
  ldc: number,
): void {
  // C = beta * C first; beta = 0 overwrites, as BLAS does
  for (let i = 0; i < M; i++) {
    const c = cOff + i * ldc;
    if (beta === 0) C.fill(0, c, c + N);
    else if (beta !== 1) for (let j = 0; j < N; j++) C[c + j] *= beta;
  }
  if (alpha === 0 || K === 0) return;
  if (!transA && !transB) {
    // C[i,:] += alpha * A[i,k] * B[k,:]
    for (let i = 0; i < M; i++) {
      const c = cOff + i * ldc;
      for (let k = 0; k < K; k++) {
        const a = alpha * A[aOff + i * lda + k];
        if (a === 0) continue;
        const b = bOff + k * ldb;
        for (let j = 0; j < N; j++) C[c + j] += a * B[b + j];
      }
    }
  } else if (!transA && transB) {
    // C[i,j] += alpha * dot(A[i,:], B[j,:])
    for (let i = 0; i < M; i++) {
      const a = aOff + i * lda;
      const c = cOff + i * ldc;
      for (let j = 0; j < N; j++) {
        const b = bOff + j * ldb;
        let s = 0;
        for (let k = 0; k < K; k++) s += A[a + k] * B[b + k];
        C[c + j] += alpha * s;
      }
    }
  } else if (transA && !transB) {
    // C[i,:] += alpha * A[k,i] * B[k,:], k outermost so both A and B rows stream
    for (let k = 0; k < K; k++) {
      const arow = aOff + k * lda;
      const b = bOff + k * ldb;
      for (let i = 0; i < M; i++) {
        const a = alpha * A[arow + i];
        if (a === 0) continue;
        const c = cOff + i * ldc;
        for (let j = 0; j < N; j++) C[c + j] += a * B[b + j];
      }
    }
  } else {
    // C[i,j] += alpha * sum_k A[k,i] * B[j,k]
    for (let i = 0; i < M; i++) {
      const c = cOff + i * ldc;
      for (let j = 0; j < N; j++) {
        const b = bOff + j * ldb;
        let s = 0;
        for (let k = 0; k < K; k++) s += A[aOff + k * lda + i] * B[b + k];
        C[c + j] += alpha * s;
      }
    }
  }
}

/** The reference kernel set. */
export const jsKernels: Kernels = {
  name: "js",
  gemm,

  // packed = op(B) itself, K×N row-major
  packedSize: (K, N) => K * N,
  packB(transB, K, N, B, bOff, ldb, dst) {
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) dst[k * N + j] = transB ? B[bOff + j * ldb + k] : B[bOff + k * ldb + j];
  },
  gemmPacked(M, N, K, alpha, A, aOff, lda, Bp, beta, C, cOff, ldc) {
    this.gemm(false, false, M, N, K, alpha, A, aOff, lda, Bp, 0, N, beta, C, cOff, ldc);
  },

  // packed for A · B^T = B itself, N×K row-major
  packNT(N, K, B, bOff, ldb, dst) {
    for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) dst[j * K + k] = B[bOff + j * ldb + k];
  },
  gemmPackedNT(M, N, K, alpha, A, aOff, lda, Bp, beta, C, cOff, ldc) {
    this.gemm(false, true, M, N, K, alpha, A, aOff, lda, Bp, 0, K, beta, C, cOff, ldc);
  },

  copy(y, yOff, x, xOff, n) {
    for (let i = 0; i < n; i++) y[yOff + i] = x[xOff + i];
  },
  axpy(y, yOff, alpha, x, xOff, n) {
    for (let i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
  },
  scale(x, xOff, alpha, n) {
    for (let i = 0; i < n; i++) x[xOff + i] *= alpha;
  },

  mul(y, yOff, a, aOff, b, bOff, n) {
    for (let i = 0; i < n; i++) y[yOff + i] = a[aOff + i] * b[bOff + i];
  },

  gatherRows(out, outOff, table, ids, idsOff, N, W) {
    for (let n = 0; n < N; n++) {
      const src = ids[idsOff + n] * W;
      const dst = outOff + n * W;
      for (let j = 0; j < W; j++) out[dst + j] = table[src + j];
    }
  },
  scatterAddRows(table, src, srcOff, ids, idsOff, N, W) {
    for (let n = 0; n < N; n++) {
      const dst = ids[idsOff + n] * W;
      const s = srcOff + n * W;
      for (let j = 0; j < W; j++) table[dst + j] += src[s + j];
    }
  },

  addRowVector(C, cOff, v, vOff, M, N) {
    for (let i = 0; i < M; i++) {
      const c = cOff + i * N;
      for (let j = 0; j < N; j++) C[c + j] += v[vOff + j];
    }
  },
  sumRows(out, outOff, X, xOff, M, N) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let i = 0; i < M; i++) s += X[xOff + i * N + j];
      out[outOff + j] += s;
    }
  },

  tanhForward(y, yOff, x, xOff, n) {
    for (let i = 0; i < n; i++) y[yOff + i] = Math.tanh(x[xOff + i]);
  },
  tanhBackward(dx, dxOff, dy, dyOff, y, yOff, n) {
    for (let i = 0; i < n; i++) {
      const v = y[yOff + i];
      dx[dxOff + i] = dy[dyOff + i] * (1 - v * v);
    }
  },
  sigmoidForward(y, yOff, x, xOff, n) {
    for (let i = 0; i < n; i++) y[yOff + i] = 1 / (1 + Math.exp(-x[xOff + i]));
  },
  sigmoidBackward(dx, dxOff, dy, dyOff, y, yOff, n) {
    for (let i = 0; i < n; i++) {
      const v = y[yOff + i];
      dx[dxOff + i] = dy[dyOff + i] * v * (1 - v);
    }
  },
  reluForward(y, yOff, x, xOff, n) {
    for (let i = 0; i < n; i++) {
      const v = x[xOff + i];
      y[yOff + i] = v > 0 ? v : 0;
    }
  },
  reluBackward(dx, dxOff, dy, dyOff, y, yOff, n) {
    for (let i = 0; i < n; i++) dx[dxOff + i] = y[yOff + i] > 0 ? dy[dyOff + i] : 0;
  },

  lstmCellForward(gates, gOff, c, cOff, tc, tcOff, h, hOff, cPrev, cpOff, B, H) {
    for (let b = 0; b < B; b++) {
      const g = gOff + b * 4 * H;
      const r = b * H;
      for (let j = 0; j < H; j++) {
        const i = 1 / (1 + Math.exp(-gates[g + j]));
        const f = 1 / (1 + Math.exp(-gates[g + H + j]));
        const gg = Math.tanh(gates[g + 2 * H + j]);
        const o = 1 / (1 + Math.exp(-gates[g + 3 * H + j]));
        gates[g + j] = i;
        gates[g + H + j] = f;
        gates[g + 2 * H + j] = gg;
        gates[g + 3 * H + j] = o;
        const cv = f * cPrev[cpOff + r + j] + i * gg; // c = f*c_prev + i*g
        c[cOff + r + j] = cv;
        const t = Math.tanh(cv);
        tc[tcOff + r + j] = t;
        h[hOff + r + j] = o * t; // h = o*tanh(c)
      }
    }
  },
  lstmCellBackward(dgates, dgOff, dcPrev, dcpOff, dh, dhOff, dcNext, dcnOff, gates, gOff, tc, tcOff, cPrev, cpOff, B, H) {
    for (let b = 0; b < B; b++) {
      const g = gOff + b * 4 * H;
      const dg = dgOff + b * 4 * H;
      const r = b * H;
      for (let j = 0; j < H; j++) {
        const i = gates[g + j],
          f = gates[g + H + j],
          gg = gates[g + 2 * H + j],
          o = gates[g + 3 * H + j];
        const t = tc[tcOff + r + j];
        const dhv = dh[dhOff + r + j];
        // backprop through h = o*tanh(c) into c, joining what came from step t+1
        const dc = dcNext[dcnOff + r + j] + dhv * o * (1 - t * t);
        dgates[dg + j] = dc * gg * i * (1 - i); // through c = ... + i*g, then σ
        dgates[dg + H + j] = dc * cPrev[cpOff + r + j] * f * (1 - f); // through f*c_prev, then σ
        dgates[dg + 2 * H + j] = dc * i * (1 - gg * gg); // through i*g, then tanh
        dgates[dg + 3 * H + j] = dhv * t * o * (1 - o); // through o*tanh(c), then σ
        dcPrev[dcpOff + r + j] = dc * f;
      }
    }
  },
  gruCellForward(gates, gOff, ghn, ghnOff, h, hOff, gi, giOff, gh, ghOff, hPrev, hpOff, B, H) {
    for (let b = 0; b < B; b++) {
      const a = giOff + b * 3 * H;
      const e = ghOff + b * 3 * H;
      const g = gOff + b * 3 * H;
      const q = b * H;
      for (let j = 0; j < H; j++) {
        const r = 1 / (1 + Math.exp(-(gi[a + j] + gh[e + j])));
        const z = 1 / (1 + Math.exp(-(gi[a + H + j] + gh[e + H + j])));
        const hn = gh[e + 2 * H + j];
        const n = Math.tanh(gi[a + 2 * H + j] + r * hn); // the reset gate scales W_hn h + b_hn
        gates[g + j] = r;
        gates[g + H + j] = z;
        gates[g + 2 * H + j] = n;
        ghn[ghnOff + q + j] = hn;
        h[hOff + q + j] = (1 - z) * n + z * hPrev[hpOff + q + j];
      }
    }
  },
  gruCellBackward(dgi, dgiOff, dgh, dghOff, dhPrev, dhpOff, dh, dhOff, gates, gOff, ghn, ghnOff, hPrev, hpOff, B, H) {
    for (let b = 0; b < B; b++) {
      const g = gOff + b * 3 * H;
      const di = dgiOff + b * 3 * H;
      const dk = dghOff + b * 3 * H;
      const q = b * H;
      for (let j = 0; j < H; j++) {
        const r = gates[g + j],
          z = gates[g + H + j],
          n = gates[g + 2 * H + j];
        const d = dh[dhOff + q + j];
        const hp = hPrev[hpOff + q + j];
        const dn = d * (1 - z) * (1 - n * n); // through (1-z)*n, then tanh
        const dz = d * (hp - n) * z * (1 - z); // through z*(hPrev - n), then σ
        const dr = dn * ghn[ghnOff + q + j] * r * (1 - r); // through r*gh_n, then σ
        dgi[di + j] = dr;
        dgi[di + H + j] = dz;
        dgi[di + 2 * H + j] = dn;
        dgh[dk + j] = dr;
        dgh[dk + H + j] = dz;
        dgh[dk + 2 * H + j] = dn * r; // gh_n enters n scaled by r
        dhPrev[dhpOff + q + j] = d * z;
      }
    }
  },

  sumSquares(x, xOff, n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[xOff + i] * x[xOff + i];
    return s;
  },

  sgdStep(p, g, buf, off, n, lr, mu, dampening, wd, nesterov, first) {
    for (let i = off; i < off + n; i++) {
      let d = wd !== 0 ? g[i] + wd * p[i] : g[i];
      if (buf) {
        buf[i] = first ? d : mu * buf[i] + (1 - dampening) * d;
        d = nesterov ? d + mu * buf[i] : buf[i];
      }
      p[i] -= lr * d;
    }
  },
  adagradStep(p, g, sum, off, n, clr, wd, eps) {
    for (let i = off; i < off + n; i++) {
      const d = wd !== 0 ? g[i] + wd * p[i] : g[i];
      sum[i] += d * d;
      p[i] -= (clr * d) / (Math.sqrt(sum[i]) + eps);
    }
  },
  rmspropStep(p, g, v, m, buf, off, n, lr, alpha, eps, wd, mu) {
    for (let i = off; i < off + n; i++) {
      const d = wd !== 0 ? g[i] + wd * p[i] : g[i];
      v[i] = alpha * v[i] + (1 - alpha) * d * d;
      let avg: number;
      if (m) {
        m[i] = alpha * m[i] + (1 - alpha) * d;
        avg = Math.sqrt(v[i] - m[i] * m[i]) + eps;
      } else {
        avg = Math.sqrt(v[i]) + eps;
      }
      if (buf) {
        buf[i] = mu * buf[i] + d / avg;
        p[i] -= lr * buf[i];
      } else {
        p[i] -= (lr * d) / avg;
      }
    }
  },
  adamStep(p, g, m, v, vmax, off, n, stepSize, b1, b2, eps, l2, decay, bc2Sqrt) {
    for (let i = off; i < off + n; i++) {
      if (decay !== 1) p[i] *= decay;
      const d = l2 !== 0 ? g[i] + l2 * p[i] : g[i];
      m[i] = b1 * m[i] + (1 - b1) * d;
      v[i] = b2 * v[i] + (1 - b2) * d * d;
      let s = v[i];
      if (vmax) {
        if (s > vmax[i]) vmax[i] = s;
        s = vmax[i];
      }
      p[i] -= (stepSize * m[i]) / (Math.sqrt(s) / bc2Sqrt + eps);
    }
  },

  softmaxXentForward(probs, pOff, logits, lOff, targets, tOff, N, V, ignoreIndex) {
    let loss = 0;
    for (let i = 0; i < N; i++) {
      const l = lOff + i * V;
      const p = pOff + i * V;
      // subtract the row max so exp never overflows
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (logits[l + j] > max) max = logits[l + j];
      let sum = 0;
      for (let j = 0; j < V; j++) {
        const e = Math.exp(logits[l + j] - max);
        probs[p + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < V; j++) probs[p + j] *= inv;
      const t = targets[tOff + i];
      if (t === ignoreIndex) continue;
      // -log softmax(z)_t = log(sum exp(z - max)) - (z_t - max)
      loss += Math.log(sum) - (logits[l + t] - max);
    }
    return loss;
  },
  softmaxXentBackward(dlogits, dOff, probs, pOff, targets, tOff, N, V, ignoreIndex, scale) {
    for (let i = 0; i < N; i++) {
      const d = dOff + i * V;
      const p = pOff + i * V;
      const t = targets[tOff + i];
      if (t === ignoreIndex) {
        dlogits.fill(0, d, d + V);
        continue;
      }
      for (let j = 0; j < V; j++) dlogits[d + j] = scale * probs[p + j];
      dlogits[d + t] -= scale;
    }
  },
} satisfies Kernels;

/** The reference set with the register-tiled GEMM (gemm-tiled.ts): the fast plain-JavaScript path. */
export const jsTiledKernels: Kernels = { ...jsKernels, name: "js-tiled", gemm: gemmTiled };
