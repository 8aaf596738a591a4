// The WebAssembly SIMD kernels against the plain reference, on float32 buffers in the shared
// arena (other buffers go to the TypeScript path). Awkward sizes exercise every tile edge and
// lane tail; cache-block edges are crossed by K and N above 128 and 256.

import { describe, expect, it } from "vitest";
import { jsKernels } from "../js-kernels.js";
import { Rng } from "../rng.js";
import { existsSync, readFileSync } from "node:fs";
import { compileKernels, createWasmKernels, fusedKernelsValidate } from "./wasm-kernels.js";

// Both builds (test/setup.ts lets Node 20 compile relaxed SIMD, as the command line does).
for (const build of ["fma", "exact"] as const) {
  describe.skipIf(!compileKernels(build))(`wasm-simd kernels, ${build} build`, () => {
    const k = createWasmKernels(compileKernels(build))!;
    const rng = new Rng(3);
    /** The same random values in an arena buffer (for wasm) and a plain one (for the reference). */
    const pair = (n: number, lo = -1, hi = 1) => {
      const a = k.arena.f32(n);
      for (let i = 0; i < n; i++) a[i] = rng.uniformRange(lo, hi);
      return { w: a, r: Float32Array.from(a) };
    };
    const close = (got: Float32Array, want: Float32Array, tol: number, what: string) => {
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
      expect(worst, what).toBeLessThanOrEqual(tol);
    };

    it("lives in the shared arena, and other buffers take the TypeScript path", () => {
      expect(k.arena.holds(k.arena.f32(4))).toBe(true);
      expect(k.arena.holds(new Float32Array(4))).toBe(false);
      const C = new Float32Array(1);
      k.gemm(false, false, 1, 1, 2, 1, new Float32Array([1, 2]), 0, 2, new Float32Array([3, 4]), 0, 1, 0, C, 0, 1);
      expect(C[0]).toBe(11);
    });

    const shapes = [
      [1, 1, 1],
      [3, 5, 7],
      [4, 8, 4],
      [2, 9, 3],
      [7, 13, 11],
      [33, 17, 130],
      [5, 300, 9],
      [64, 40, 260],
      [131, 515, 133],
      [16, 9, 257],
      [200, 3, 5],
    ];
    for (const [tA, tB] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ]) {
      it(`gemm transA=${tA} transB=${tB}: every tile edge, offsets, padded leading dims, alpha and beta`, () => {
        for (const [M, N, K] of shapes) {
          const lda = (tA ? M : K) + 3,
            ldb = (tB ? K : N) + 1,
            ldc = N + 2;
          const A = pair(5 + lda * (tA ? K : M)),
            B = pair(7 + ldb * (tB ? N : K));
          for (const [alpha, beta] of [
            [1, 0],
            [0.5, 1],
            [-2, 0.25],
          ]) {
            const C = pair(2 + ldc * M);
            jsKernels.gemm(tA, tB, M, N, K, alpha, A.r, 5, lda, B.r, 7, ldb, beta, C.r, 2, ldc);
            k.gemm(tA, tB, M, N, K, alpha, A.w, 5, lda, B.w, 7, ldb, beta, C.w, 2, ldc);
            close(C.w, C.r, 2e-5, `${M}x${N}x${K} alpha ${alpha} beta ${beta}`);
          }
        }
      });
    }

    it("many-row products (both operands packed) give each element the few-row arithmetic: rows one block at a time are bit-identical", () => {
      for (const tA of [false, true]) {
        const [M, N, K] = [37, 29, 300];
        const lda = tA ? M : K;
        const A = pair(lda * (tA ? K : M)),
          B = pair(K * N);
        const whole = k.arena.f32(M * N);
        const parts = k.arena.f32(M * N);
        k.gemm(tA, false, M, N, K, 1, A.w, 0, lda, B.w, 0, N, 0, whole, 0, N);
        // 9 rows and fewer per call: the path without packing
        for (let i = 0; i < M; i += 9) k.gemm(tA, false, Math.min(9, M - i), N, K, 1, A.w, tA ? i : i * K, lda, B.w, 0, N, 0, parts, i * N, N);
        expect(Array.from(whole), `transA=${tA}`).toEqual(Array.from(parts));
      }
    });

    for (const tB of [false, true]) {
      it(`packB and gemmPacked (transB=${tB}): the product of gemm, the same bits where gemm packs too, and correct from any buffer`, () => {
        for (const [M, N, K] of [
          [1, 1, 1],
          [4, 13, 7],
          [20, 50, 50],
          [37, 9, 130],
          [16, 200, 300],
        ]) {
          const ldb = tB ? K : N;
          const A = pair(K * M + 3),
            B = pair(ldb * (tB ? N : K) + 2);
          const P = k.arena.f32(k.packedSize(K, N));
          k.packB(tB, K, N, B.w, 2, ldb, P);
          for (const [alpha, beta] of [
            [1, 0],
            [-0.5, 1],
          ]) {
            const C = pair(M * N);
            const want = Float32Array.from(C.r);
            jsKernels.gemm(false, tB, M, N, K, alpha, A.r, 3, K, B.r, 2, ldb, beta, want, 0, N);
            const got = Float32Array.from(C.w);
            const gw = k.arena.f32(M * N);
            gw.set(got);
            k.gemmPacked(M, N, K, alpha, A.w, 3, K, P, beta, gw, 0, N);
            close(gw, want, 2e-5, `${M}x${N}x${K}`);
            if (M >= 16) {
              const viaGemm = k.arena.f32(M * N);
              viaGemm.set(got);
              k.gemm(false, tB, M, N, K, alpha, A.w, 3, K, B.w, 2, ldb, beta, viaGemm, 0, N);
              expect(Array.from(gw), `${M}x${N}x${K} as gemm`).toEqual(Array.from(viaGemm));
            }
            // A and C outside the arena read the packed layout in TypeScript
            const plain = Float32Array.from(got);
            k.gemmPacked(M, N, K, alpha, A.r, 3, K, P, beta, plain, 0, N);
            close(plain, want, 2e-5, `${M}x${N}x${K} from plain buffers`);
          }
          // B outside the arena packs into the same layout
          const P2 = k.arena.f32(k.packedSize(K, N));
          k.packB(tB, K, N, B.r, 2, ldb, P2);
          expect(Array.from(P2)).toEqual(Array.from(P));
          // a packed buffer outside the arena has the reference layout, op(B) row by row
          const Pr = new Float32Array(k.packedSize(K, N));
          k.packB(tB, K, N, B.r, 2, ldb, Pr);
          const C = new Float32Array(M * N);
          const want = new Float32Array(M * N);
          k.gemmPacked(M, N, K, 1, A.r, 3, K, Pr, 0, C, 0, N);
          jsKernels.gemm(false, tB, M, N, K, 1, A.r, 3, K, B.r, 2, ldb, 0, want, 0, N);
          close(C, want, 2e-5, `${M}x${N}x${K} packed outside the arena`);
        }
      });
    }

    it("packNT and gemmPackedNT: the same bits as gemm(A, B^T) on the unpacked B, at every row and k tail, from any buffer", () => {
      for (const [M, N, K] of [
        [1, 1, 1],
        [1, 3, 5],
        [1, 4, 4],
        [2, 13, 7],
        [3, 1024, 256],
        [1, 65, 255],
        [1, 10, 130],
      ]) {
        const ldb = K + 3;
        const A = pair(K * M + 3),
          B = pair(ldb * N + 2);
        const P = k.arena.f32(N * K);
        k.packNT(N, K, B.w, 2, ldb, P);
        for (const [alpha, beta] of [
          [1, 0],
          [-0.5, 1],
        ]) {
          const C = pair(M * N);
          const viaGemm = k.arena.f32(M * N);
          viaGemm.set(C.w);
          k.gemm(false, true, M, N, K, alpha, A.w, 3, K, B.w, 2, ldb, beta, viaGemm, 0, N);
          const got = k.arena.f32(M * N);
          got.set(C.w);
          k.gemmPackedNT(M, N, K, alpha, A.w, 3, K, P, beta, got, 0, N);
          expect(Array.from(got), `${M}x${N}x${K} alpha ${alpha} beta ${beta}`).toEqual(Array.from(viaGemm));
          // A and C outside the arena read the packed layout in TypeScript
          const want = Float32Array.from(C.r);
          jsKernels.gemm(false, true, M, N, K, alpha, A.r, 3, K, B.r, 2, ldb, beta, want, 0, N);
          const plain = Float32Array.from(C.r);
          k.gemmPackedNT(M, N, K, alpha, A.r, 3, K, P, beta, plain, 0, N);
          close(plain, want, 2e-5, `${M}x${N}x${K} from plain buffers`);
        }
        // B outside the arena packs into the same layout; a packed buffer outside it is B itself
        const P2 = k.arena.f32(N * K);
        k.packNT(N, K, B.r, 2, ldb, P2);
        expect(Array.from(P2)).toEqual(Array.from(P));
        const Pr = new Float32Array(N * K);
        k.packNT(N, K, B.r, 2, ldb, Pr);
        const C = new Float32Array(M * N);
        const want = new Float32Array(M * N);
        k.gemmPackedNT(M, N, K, 1, A.r, 3, K, Pr, 0, C, 0, N);
        jsKernels.gemm(false, true, M, N, K, 1, A.r, 3, K, B.r, 2, ldb, 0, want, 0, N);
        close(C, want, 2e-5, `${M}x${N}x${K} packed outside the arena`);
      }
    });

    it("elementwise kernels and reductions, with tails", () => {
      for (const n of [1, 3, 4, 13, 64]) {
        const x = pair(n, -6, 6),
          y = pair(n),
          dy = pair(n),
          out = pair(n);
        for (const op of ["tanh", "sigmoid", "relu"] as const) {
          const f = `${op}Forward` as const,
            b = `${op}Backward` as const;
          jsKernels[f](out.r, 0, x.r, 0, n);
          k[f](out.w, 0, x.w, 0, n);
          close(out.w, out.r, 2e-6, `${f} n=${n}`);
          jsKernels[b](y.r, 0, dy.r, 0, out.r, 0, n);
          k[b](y.w, 0, dy.w, 0, out.w, 0, n);
          close(y.w, y.r, 2e-6, `${b} n=${n}`);
        }
        jsKernels.axpy(y.r, 0, 0.3, x.r, 0, n);
        k.axpy(y.w, 0, 0.3, x.w, 0, n);
        close(y.w, y.r, 1e-6, "axpy");
        jsKernels.scale(y.r, 0, -1.5, n);
        k.scale(y.w, 0, -1.5, n);
        close(y.w, y.r, 1e-6, "scale");
        jsKernels.mul(y.r, 0, x.r, 0, dy.r, 0, n);
        k.mul(y.w, 0, x.w, 0, dy.w, 0, n);
        close(y.w, y.r, 1e-6, "mul");
        jsKernels.copy(out.r, 0, x.r, 0, n);
        k.copy(out.w, 0, x.w, 0, n);
        close(out.w, out.r, 0, "copy");
      }
      for (const [M, N] of [
        [1, 1],
        [5, 7],
        [64, 130],
      ]) {
        const C = pair(M * N),
          v = pair(N),
          s = pair(N);
        jsKernels.addRowVector(C.r, 0, v.r, 0, M, N);
        k.addRowVector(C.w, 0, v.w, 0, M, N);
        close(C.w, C.r, 1e-6, "addRowVector");
        jsKernels.sumRows(s.r, 0, C.r, 0, M, N);
        k.sumRows(s.w, 0, C.w, 0, M, N);
        close(s.w, s.r, 1e-5, "sumRows");
      }
    });

    for (const H of [1, 3, 4, 7, 16]) {
      it(`fused LSTM and GRU cells, forward and backward, H=${H}`, () => {
        const B = 3;
        const gates = pair(B * 4 * H, -3, 3),
          cPrev = pair(B * H),
          c = pair(B * H),
          tc = pair(B * H),
          h = pair(B * H);
        jsKernels.lstmCellForward(gates.r, 0, c.r, 0, tc.r, 0, h.r, 0, cPrev.r, 0, B, H);
        k.lstmCellForward(gates.w, 0, c.w, 0, tc.w, 0, h.w, 0, cPrev.w, 0, B, H);
        for (const [g, what] of [
          [gates, "gates"],
          [c, "c"],
          [tc, "tanh c"],
          [h, "h"],
        ] as const)
          close(g.w, g.r, 2e-6, `lstm forward ${what}`);
        const dg = pair(B * 4 * H),
          dcPrev = pair(B * H),
          dh = pair(B * H),
          dcNext = pair(B * H);
        jsKernels.lstmCellBackward(dg.r, 0, dcPrev.r, 0, dh.r, 0, dcNext.r, 0, gates.r, 0, tc.r, 0, cPrev.r, 0, B, H);
        k.lstmCellBackward(dg.w, 0, dcPrev.w, 0, dh.w, 0, dcNext.w, 0, gates.w, 0, tc.w, 0, cPrev.w, 0, B, H);
        close(dg.w, dg.r, 2e-6, "lstm dgates");
        close(dcPrev.w, dcPrev.r, 2e-6, "lstm dcPrev");

        const gi = pair(B * 3 * H, -3, 3),
          gh = pair(B * 3 * H, -3, 3),
          gg = pair(B * 3 * H),
          ghn = pair(B * H),
          hp = pair(B * H),
          hh = pair(B * H);
        jsKernels.gruCellForward(gg.r, 0, ghn.r, 0, hh.r, 0, gi.r, 0, gh.r, 0, hp.r, 0, B, H);
        k.gruCellForward(gg.w, 0, ghn.w, 0, hh.w, 0, gi.w, 0, gh.w, 0, hp.w, 0, B, H);
        for (const [g, what] of [
          [gg, "gates"],
          [ghn, "ghn"],
          [hh, "h"],
        ] as const)
          close(g.w, g.r, 2e-6, `gru forward ${what}`);
        const dgi = pair(B * 3 * H),
          dgh = pair(B * 3 * H),
          dhp = pair(B * H);
        jsKernels.gruCellBackward(dgi.r, 0, dgh.r, 0, dhp.r, 0, dh.r, 0, gg.r, 0, ghn.r, 0, hp.r, 0, B, H);
        k.gruCellBackward(dgi.w, 0, dgh.w, 0, dhp.w, 0, dh.w, 0, gg.w, 0, ghn.w, 0, hp.w, 0, B, H);
        for (const [g, what] of [
          [dgi, "dgi"],
          [dgh, "dgh"],
          [dhp, "dhPrev"],
        ] as const)
          close(g.w, g.r, 2e-6, `gru backward ${what}`);
      });
    }

    it("optimizer updates and the sum of squares", () => {
      for (const n of [1, 7, 64, 1001]) {
        const x = pair(n, -3, 3);
        expect(Math.abs(k.sumSquares(x.w, 0, n) - jsKernels.sumSquares(x.r, 0, n))).toBeLessThan(1e-9 * n);
        const p = pair(n),
          g = pair(n),
          m = pair(n, 0, 0),
          v = pair(n, 0, 0),
          vm = pair(n, 0, 0),
          b = pair(n, 0, 0);
        const m2 = pair(n, 0, 0),
          v2 = pair(n, 0, 0),
          sq = pair(n, 0, 0),
          ga = pair(n, 0, 0),
          b2 = pair(n, 0, 0),
          acc = pair(n, 0, 0);
        for (let step = 1; step <= 3; step++) {
          k.adamStep(p.w, g.w, m.w, v.w, vm.w, 0, n, 0.01 / (1 - 0.9 ** step), 0.9, 0.999, 1e-8, 0.01, 1, Math.sqrt(1 - 0.999 ** step));
          jsKernels.adamStep(p.r, g.r, m.r, v.r, vm.r, 0, n, 0.01 / (1 - 0.9 ** step), 0.9, 0.999, 1e-8, 0.01, 1, Math.sqrt(1 - 0.999 ** step));
          k.adamStep(p.w, g.w, m2.w, v2.w, null, 0, n, 0.01, 0.8, 0.99, 1e-8, 0, 0.999, 1);
          jsKernels.adamStep(p.r, g.r, m2.r, v2.r, null, 0, n, 0.01, 0.8, 0.99, 1e-8, 0, 0.999, 1);
          k.sgdStep(p.w, g.w, b.w, 0, n, 0.1, 0.9, 0, 0.01, true, step === 1);
          jsKernels.sgdStep(p.r, g.r, b.r, 0, n, 0.1, 0.9, 0, 0.01, true, step === 1);
          k.rmspropStep(p.w, g.w, sq.w, ga.w, b2.w, 0, n, 0.01, 0.9, 1e-8, 0.001, 0.5);
          jsKernels.rmspropStep(p.r, g.r, sq.r, ga.r, b2.r, 0, n, 0.01, 0.9, 1e-8, 0.001, 0.5);
          k.adagradStep(p.w, g.w, acc.w, 0, n, 0.05, 0.001, 1e-10);
          jsKernels.adagradStep(p.r, g.r, acc.r, 0, n, 0.05, 0.001, 1e-10);
        }
        close(p.w, p.r, 1e-5, `parameters after optimizer steps, n=${n}`);
      }
    });

    it("softmax cross-entropy: values, probabilities, ignored rows, huge logits", () => {
      for (const V of [2, 5, 65, 67]) {
        const N = 9;
        const logits = pair(N * V, -8, 8);
        logits.w[3] = logits.r[3] = 1000; // exp would overflow without the row max
        const targets = Int32Array.from({ length: N }, (_, i) => (i === 4 ? -100 : (i * 7) % V));
        const p = pair(N * V);
        const lr = jsKernels.softmaxXentForward(p.r, 0, logits.r, 0, targets, 0, N, V, -100);
        const lw = k.softmaxXentForward(p.w, 0, logits.w, 0, targets, 0, N, V, -100);
        expect(Math.abs(lw - lr) / Math.max(1, lr)).toBeLessThan(1e-6);
        close(p.w, p.r, 1e-6, `probs V=${V}`);
        const d = pair(N * V);
        jsKernels.softmaxXentBackward(d.r, 0, p.r, 0, targets, 0, N, V, -100, 0.125);
        k.softmaxXentBackward(d.w, 0, p.w, 0, targets, 0, N, V, -100, 0.125);
        close(d.w, d.r, 1e-7, `dlogits V=${V}`);
      }
    });
  });
}

describe("the two builds", () => {
  it("the runtime accepts the fused build (Node 20 after allowRelaxedSimd, Node 22, Chromium)", () => {
    expect(fusedKernelsValidate()).toBe(true);
    expect(createWasmKernels(compileKernels("fma"))!.name).toBe("wasm-simd-fma");
    expect(createWasmKernels(compileKernels("exact"))!.name).toBe("wasm-simd");
    expect(createWasmKernels()!.name).toBe("wasm-simd-fma"); // "auto" prefers it
  });

  it("fused multiply-adds are at least as accurate as the exact build, and on a CPU with FMA they are fused", () => {
    const fma = createWasmKernels(compileKernels("fma"))!;
    const exact = createWasmKernels(compileKernels("exact"))!;
    const rng = new Rng(11);
    const M = 40,
      N = 48,
      K = 300;
    const a = Float64Array.from({ length: M * K }, () => rng.uniformRange(-1, 1));
    const b = Float64Array.from({ length: K * N }, () => rng.uniformRange(-1, 1));
    const want = new Float64Array(M * N);
    jsKernels.gemm(false, false, M, N, K, 1, a, 0, K, b, 0, N, 0, want, 0, N);
    const err = (k: typeof fma) => {
      const A = k.arena.f32(M * K),
        B = k.arena.f32(K * N),
        C = k.arena.f32(M * N);
      A.set(a);
      B.set(b);
      k.gemm(false, false, M, N, K, 1, A, 0, K, B, 0, N, 0, C, 0, N);
      let sum = 0;
      for (let i = 0; i < M * N; i++) sum += Math.abs(C[i] - want[i]);
      return { sum, C: Float32Array.from(C) };
    };
    const f = err(fma),
      e = err(exact);
    expect(f.sum).toBeLessThanOrEqual(e.sum * 1.05);
    const cpu = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
    if (/^flags\s*:.*\bfma\b/m.test(cpu)) expect(f.C).not.toEqual(e.C);
  });
});
