// rnnlab's WebAssembly SIMD kernels, in AssemblyScript (compiled by `npm run build:wasm` with
// asc from the repo's own devDependencies). Every argument that names an array is a byte
// address in the shared linear memory; sizes are element counts. The JavaScript side
// (../wasm-kernels.ts) turns Float32Array views into addresses and falls back to the TypeScript
// kernels for anything that is not in this memory. float32 only.
//
// Deliberately simple: two GEMM loop nests with register tiles (a dot-product tile for A·B^T,
// an outer-product tile for A·B and A^T·B), 4-wide loops with the same vector code on one-lane
// tails (so every element gets identical arithmetic), and vector approximations of exp and tanh.

/** 1 in the build whose GEMMs use relaxed-SIMD fused multiply-adds, 0 in the exact build. */
export function fused(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/** The first byte after the module's own static data (Math.log's tables): the arena starts above it. */
export function heapBase(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------------------------------------
// vector math

/**
 * c + a·b, lane by lane: two roundings in the exact build, one (fused, f32x4.relaxed_madd) in the
 * build made with relaxed SIMD (tools/build-wasm.mjs compiles this file both ways).
 */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** c + a·b for one element, rounded as madd rounds each lane (so tails get the vector loops' arithmetic). */
@inline function smadd(a: f32, b: f32, c: f32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
  return c + a * b;
}

// The constants of the vector functions, read by one broadcast load each (vk): a v128 constant
// written inline is rebuilt by the engine at every use, which cost tanh three times its arithmetic.
const VK: StaticArray<f32> = [
  -87.33654, 88.72283, 1.44269504088896341, 0.693359375, -2.12194440e-4, // exp: clamp, log2(e), ln 2 (hi, lo)
  1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, 1, // exp: e^r - 1 - r
  7.90531110763549805, -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-8, // tanh: clamp, p
  1.48572235717979e-5, 6.37261928875436e-4, 4.89352455891786e-3, 1.19825839466702e-6, 1.18534705686654e-4, // tanh: p, q
  2.26843463243900e-3, 4.89352518554385e-3, 0.0004, 0.5, -7.90531110763549805, // tanh: q, |x| exact below, 1/2; -clamp
];
@inline function vk(i: i32): v128 {
  return v128.load32_splat(changetype<usize>(VK) + (<usize>i << 2));
}

/** exp(x) for 4 lanes: 2^n * e^r with n = round(x / ln 2), a degree-6 polynomial for e^r (rel. error ~1e-7), x clamped to [-87.3, 88.7]. */
@inline function vexp(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, vk(0)), vk(1));
  const n = f32x4.nearest(f32x4.mul(x, vk(2)));
  // r = x - n ln2, in two parts for accuracy
  let r = f32x4.sub(x, f32x4.mul(n, vk(3)));
  r = f32x4.sub(r, f32x4.mul(n, vk(4)));
  let p = vk(5);
  p = madd(p, r, vk(6));
  p = madd(p, r, vk(7));
  p = madd(p, r, vk(8));
  p = madd(p, r, vk(9));
  p = madd(p, r, vk(10));
  const r2 = f32x4.mul(r, r);
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), vk(11));
  // scale by 2^n: add n to the exponent bits
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

/** tanh(x) for 4 lanes: Eigen's rational approximation (13/6) on |x| <= 7.9, exact-to-float for |x| < 4e-4. */
@inline function vtanh(x: v128): v128 {
  const c = f32x4.min(f32x4.max(x, vk(26)), vk(12));
  const x2 = f32x4.mul(c, c);
  let p = vk(13);
  p = madd(p, x2, vk(14));
  p = madd(p, x2, vk(15));
  p = madd(p, x2, vk(16));
  p = madd(p, x2, vk(17));
  p = madd(p, x2, vk(18));
  p = madd(p, x2, vk(19));
  p = f32x4.mul(p, c);
  let q = vk(20);
  q = madd(q, x2, vk(21));
  q = madd(q, x2, vk(22));
  q = madd(q, x2, vk(23));
  const t = f32x4.div(p, q);
  const tiny = f32x4.lt(f32x4.abs(x), vk(24));
  return v128.bitselect(x, t, tiny);
}

/** σ(x) = (1 + tanh(x/2)) / 2 for 4 lanes. */
@inline function vsigmoid(x: v128): v128 {
  const h = vk(25);
  return f32x4.add(h, f32x4.mul(h, vtanh(f32x4.mul(x, h))));
}

/** Scalar entry points of the vector functions (lane 0), so tails get the same arithmetic. */
@inline function sexp(x: f32): f32 { return f32x4.extract_lane(vexp(f32x4.splat(x)), 0); }

export function tanhf(x: f32): f32 { return f32x4.extract_lane(vtanh(f32x4.splat(x)), 0); }
export function sigmoidf(x: f32): f32 { return f32x4.extract_lane(vsigmoid(f32x4.splat(x)), 0); }
export function expf(x: f32): f32 { return sexp(x); }

// ---------------------------------------------------------------------------------------------
// GEMM

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline function store1(c: usize, s: f32, alpha: f32, beta: f32): void {
  store<f32>(c, beta == 0 ? alpha * s : alpha * s + beta * load<f32>(c));
}

@inline function store4(c: usize, s: v128, alpha: f32, beta: f32): void {
  const v = f32x4.mul(s, f32x4.splat(alpha));
  v128.store(c, beta == 0 ? v : f32x4.add(v, f32x4.mul(v128.load(c), f32x4.splat(beta))));
}

/** The k-tail of a dot product (k from K4 to K). */
@inline function dotTail(a: usize, b: usize, K4: i32, K: i32): f32 {
  let s: f32 = 0;
  for (let k = K4; k < K; k++) s = smadd(load<f32>(a + (<usize>k << 2)), load<f32>(b + (<usize>k << 2)), s);
  return s;
}

/**
 * C (M x N) = alpha * A (M x K) · B^T + beta * C, B stored N x K: every C element is a dot
 * product of two rows contiguous along k. 2x4 tiles of 4-wide partial sums.
 */
export function gemmNT(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32): void {
  const K4 = K & ~3;
  const M2 = M & ~1;
  const N4 = N & ~3;
  const sa = <usize>lda << 2;
  const sb = <usize>ldb << 2;
  const sc = <usize>ldc << 2;
  for (let i = 0; i < M2; i += 2) {
    const a0 = A + <usize>i * sa;
    const a1 = a0 + sa;
    const c0 = C + <usize>i * sc;
    for (let j = 0; j < N4; j += 4) {
      const b0 = B + <usize>j * sb;
      const b1 = b0 + sb;
      const b2 = b1 + sb;
      const b3 = b2 + sb;
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
      let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const x0 = v128.load(a0 + o), x1 = v128.load(a1 + o);
        const y0 = v128.load(b0 + o), y1 = v128.load(b1 + o), y2 = v128.load(b2 + o), y3 = v128.load(b3 + o);
        s00 = madd(x0, y0, s00); s01 = madd(x0, y1, s01);
        s02 = madd(x0, y2, s02); s03 = madd(x0, y3, s03);
        s10 = madd(x1, y0, s10); s11 = madd(x1, y1, s11);
        s12 = madd(x1, y2, s12); s13 = madd(x1, y3, s13);
      }
      let r0 = f32x4.splat(0);
      r0 = f32x4.replace_lane(r0, 0, hsum(s00) + dotTail(a0, b0, K4, K));
      r0 = f32x4.replace_lane(r0, 1, hsum(s01) + dotTail(a0, b1, K4, K));
      r0 = f32x4.replace_lane(r0, 2, hsum(s02) + dotTail(a0, b2, K4, K));
      r0 = f32x4.replace_lane(r0, 3, hsum(s03) + dotTail(a0, b3, K4, K));
      let r1 = f32x4.splat(0);
      r1 = f32x4.replace_lane(r1, 0, hsum(s10) + dotTail(a1, b0, K4, K));
      r1 = f32x4.replace_lane(r1, 1, hsum(s11) + dotTail(a1, b1, K4, K));
      r1 = f32x4.replace_lane(r1, 2, hsum(s12) + dotTail(a1, b2, K4, K));
      r1 = f32x4.replace_lane(r1, 3, hsum(s13) + dotTail(a1, b3, K4, K));
      store4(c0 + (<usize>j << 2), r0, alpha, beta);
      store4(c0 + sc + (<usize>j << 2), r1, alpha, beta);
    }
    for (let j = N4; j < N; j++) {
      const b0 = B + <usize>j * sb;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const y = v128.load(b0 + o);
        s0 = madd(v128.load(a0 + o), y, s0);
        s1 = madd(v128.load(a1 + o), y, s1);
      }
      store1(c0 + (<usize>j << 2), hsum(s0) + dotTail(a0, b0, K4, K), alpha, beta);
      store1(c0 + sc + (<usize>j << 2), hsum(s1) + dotTail(a1, b0, K4, K), alpha, beta);
    }
  }
  // the last odd row (a matrix-vector product when M = 1): four columns at a time, so four
  // independent sums hide the adds' latency; each element's arithmetic as in the one-column loop
  for (let i = M2; i < M; i++) {
    const a0 = A + <usize>i * sa;
    const c0 = C + <usize>i * sc;
    for (let j = 0; j < N4; j += 4) {
      const b0 = B + <usize>j * sb;
      const b1 = b0 + sb;
      const b2 = b1 + sb;
      const b3 = b2 + sb;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        const x = v128.load(a0 + o);
        s0 = madd(x, v128.load(b0 + o), s0);
        s1 = madd(x, v128.load(b1 + o), s1);
        s2 = madd(x, v128.load(b2 + o), s2);
        s3 = madd(x, v128.load(b3 + o), s3);
      }
      const c = c0 + (<usize>j << 2);
      store1(c, hsum(s0) + dotTail(a0, b0, K4, K), alpha, beta);
      store1(c + 4, hsum(s1) + dotTail(a0, b1, K4, K), alpha, beta);
      store1(c + 8, hsum(s2) + dotTail(a0, b2, K4, K), alpha, beta);
      store1(c + 12, hsum(s3) + dotTail(a0, b3, K4, K), alpha, beta);
    }
    for (let j = N4; j < N; j++) {
      const b0 = B + <usize>j * sb;
      let s0 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        s0 = madd(v128.load(a0 + o), v128.load(b0 + o), s0);
      }
      store1(c0 + (<usize>j << 2), hsum(s0) + dotTail(a0, b0, K4, K), alpha, beta);
    }
  }
}

/**
 * Packs B (N x K, row stride ldb: the right operand of gemmNT) for gemmNTP into dst (N*K
 * floats): each block of 4 rows as one stream, 4 floats of each row per 4 k (then the 4 rows'
 * last K % 4 floats); the last N % 4 rows as they are. A matrix-vector product then reads one
 * contiguous stream from one pointer instead of four rows from four.
 */
export function packNT(N: i32, K: i32, B: usize, ldb: i32, dst: usize): void {
  const K4 = K & ~3;
  const N4 = N & ~3;
  const sb = <usize>ldb << 2;
  let d = dst;
  for (let j = 0; j < N4; j += 4) {
    const b0 = B + <usize>j * sb;
    for (let k = 0; k < K4; k += 4) {
      const o = <usize>k << 2;
      v128.store(d, v128.load(b0 + o));
      v128.store(d, v128.load(b0 + sb + o), 16);
      v128.store(d, v128.load(b0 + 2 * sb + o), 32);
      v128.store(d, v128.load(b0 + 3 * sb + o), 48);
      d += 64;
    }
    for (let r = 0; r < 4; r++) for (let k = K4; k < K; k++) { store<f32>(d, load<f32>(b0 + <usize>r * sb + (<usize>k << 2))); d += 4; }
  }
  for (let j = N4; j < N; j++) {
    memory.copy(d, B + <usize>j * sb, <usize>K << 2);
    d += <usize>K << 2;
  }
}

/**
 * gemmNT with B packed by packNT (Bp): C (M x N) = alpha * A (M x K) · B^T + beta * C, row by
 * row of A (built for M < 4: a matrix-vector product per row). Every element gets gemmNT's
 * arithmetic (4-wide partial sums over k in order, their horizontal sum, then the k-tail), so
 * the results are the same bits as gemmNT's.
 */
export function gemmNTP(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, Bp: usize, beta: f32, C: usize, ldc: i32): void {
  const K4 = K & ~3;
  const N4 = N & ~3;
  const sa = <usize>lda << 2;
  const sc = <usize>ldc << 2;
  const tail = <usize>(K - K4) << 2; // bytes of one row's k-tail
  for (let i = 0; i < M; i++) {
    const a0 = A + <usize>i * sa;
    const end = a0 + (<usize>K4 << 2);
    const c0 = C + <usize>i * sc;
    let p = Bp;
    for (let j = 0; j < N4; j += 4) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let a = a0; a < end; a += 16) {
        const x = v128.load(a);
        s0 = madd(x, v128.load(p), s0);
        s1 = madd(x, v128.load(p, 16), s1);
        s2 = madd(x, v128.load(p, 32), s2);
        s3 = madd(x, v128.load(p, 48), s3);
        p += 64;
      }
      // the k-tails: row r's K % 4 floats at p + r*tail, read by dotTail from k = K4
      const t = p - (<usize>K4 << 2);
      const c = c0 + (<usize>j << 2);
      store1(c, hsum(s0) + dotTail(a0, t, K4, K), alpha, beta);
      store1(c + 4, hsum(s1) + dotTail(a0, t + tail, K4, K), alpha, beta);
      store1(c + 8, hsum(s2) + dotTail(a0, t + 2 * tail, K4, K), alpha, beta);
      store1(c + 12, hsum(s3) + dotTail(a0, t + 3 * tail, K4, K), alpha, beta);
      p += 4 * tail;
    }
    for (let j = N4; j < N; j++) {
      let s0 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const o = <usize>k << 2;
        s0 = madd(v128.load(a0 + o), v128.load(p + o), s0);
      }
      store1(c0 + (<usize>j << 2), hsum(s0) + dotTail(a0, p, K4, K), alpha, beta);
      p += <usize>K << 2;
    }
  }
}

/** Cache blocking of gemmSA: a KC x NC panel of B (128 KB) stays in L2 while every row of A passes over it. */
const KC = 128;
const NC = 256;

/**
 * C (M x N) = alpha * op(A) · B + beta * C with B (K x N, row stride ldb) and
 * op(A)(i, k) = A[i*sAi + k*sAk] (A·B: sAi = lda, sAk = 1; A^T·B: sAi = 1, sAk = lda).
 * Blocked over k and j so B's panel is reused from cache; within a block, 4x8 outer-product
 * tiles: per k, two 4-wide loads of B's row and four broadcasts of A.
 */
export function gemmSA(M: i32, N: i32, K: i32, alpha: f32, A: usize, sAi: i32, sAk: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32, P: usize): void {
  const sk = <usize>sAk << 2;
  const sb = <usize>ldb << 2;
  if (K == 0) {
    // C = beta * C
    for (let i = 0; i < M; i++) {
      const c = C + (<usize>(i * ldc) << 2);
      if (beta == 0) memory.fill(c, 0, <usize>N << 2);
      else scale(c, beta, N);
    }
    return;
  }
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min<i32>(NC, N - jc);
    for (let kc = 0; kc < K; kc += KC) {
      const kb = min<i32>(KC, K - kc);
      // the first k block applies beta; later ones add to it
      saBlock(M, nc, kb, alpha, A + <usize>kc * sk, sAi, sAk, B + <usize>kc * sb + (<usize>jc << 2), ldb, kc == 0 ? beta : 1, C + (<usize>jc << 2), ldc, P);
    }
  }
}

/**
 * One cache block of gemmSA. For A^T·B (sAi = 1) each 4-column strip of A is first copied into
 * P (K x 4, 16 bytes a row): A's rows are often a power of two apart (2048 floats), and reading
 * them in place would map every k to the same L1 set.
 */
function saBlock(M: i32, N: i32, K: i32, alpha: f32, A: usize, sAi: i32, sAk: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32, P: usize): void {
  const M4 = M & ~3;
  const N8 = N & ~7;
  const N4 = N & ~3;
  const packed = sAi == 1;
  const si: usize = packed ? 4 : <usize>sAi << 2;
  const sk: usize = packed ? 16 : <usize>sAk << 2;
  const sb = <usize>ldb << 2;
  const sc = <usize>ldc << 2;
  for (let i = 0; i < M4; i += 4) {
    let a0 = A + <usize>i * (<usize>sAi << 2);
    if (packed) {
      const src = <usize>sAk << 2;
      for (let k = 0; k < K; k++) v128.store(P + (<usize>k << 4), v128.load(a0 + <usize>k * src));
      a0 = P;
    }
    const a1 = a0 + si, a2 = a1 + si, a3 = a2 + si;
    const c0 = C + <usize>i * sc;
    for (let j = 0; j < N8; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let b = B + (<usize>j << 2);
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        const y0 = v128.load(b), y1 = v128.load(b, 16);
        const x0 = v128.load32_splat(a0 + ak), x1 = v128.load32_splat(a1 + ak);
        const x2 = v128.load32_splat(a2 + ak), x3 = v128.load32_splat(a3 + ak);
        c00 = madd(x0, y0, c00); c01 = madd(x0, y1, c01);
        c10 = madd(x1, y0, c10); c11 = madd(x1, y1, c11);
        c20 = madd(x2, y0, c20); c21 = madd(x2, y1, c21);
        c30 = madd(x3, y0, c30); c31 = madd(x3, y1, c31);
        b += sb;
        ak += sk;
      }
      const c = c0 + (<usize>j << 2);
      store4(c, c00, alpha, beta); store4(c + 16, c01, alpha, beta);
      store4(c + sc, c10, alpha, beta); store4(c + sc + 16, c11, alpha, beta);
      store4(c + 2 * sc, c20, alpha, beta); store4(c + 2 * sc + 16, c21, alpha, beta);
      store4(c + 3 * sc, c30, alpha, beta); store4(c + 3 * sc + 16, c31, alpha, beta);
    }
    for (let j = N8; j < N4; j += 4) {
      let c0v = f32x4.splat(0), c1v = f32x4.splat(0), c2v = f32x4.splat(0), c3v = f32x4.splat(0);
      let b = B + (<usize>j << 2);
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        const y = v128.load(b);
        c0v = madd(v128.load32_splat(a0 + ak), y, c0v);
        c1v = madd(v128.load32_splat(a1 + ak), y, c1v);
        c2v = madd(v128.load32_splat(a2 + ak), y, c2v);
        c3v = madd(v128.load32_splat(a3 + ak), y, c3v);
        b += sb;
        ak += sk;
      }
      const c = c0 + (<usize>j << 2);
      store4(c, c0v, alpha, beta);
      store4(c + sc, c1v, alpha, beta);
      store4(c + 2 * sc, c2v, alpha, beta);
      store4(c + 3 * sc, c3v, alpha, beta);
    }
    for (let j = N4; j < N; j++) {
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
      let b = B + (<usize>j << 2);
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        const y = load<f32>(b);
        s0 = smadd(load<f32>(a0 + ak), y, s0); s1 = smadd(load<f32>(a1 + ak), y, s1);
        s2 = smadd(load<f32>(a2 + ak), y, s2); s3 = smadd(load<f32>(a3 + ak), y, s3);
        b += sb;
        ak += sk;
      }
      const c = c0 + (<usize>j << 2);
      store1(c, s0, alpha, beta);
      store1(c + sc, s1, alpha, beta);
      store1(c + 2 * sc, s2, alpha, beta);
      store1(c + 3 * sc, s3, alpha, beta);
    }
  }
  // the last M % 4 rows, read in place
  const ri = <usize>sAi << 2;
  const rk = <usize>sAk << 2;
  for (let i = M4; i < M; i++) {
    const a0 = A + <usize>i * ri;
    const c0 = C + <usize>i * sc;
    for (let j = 0; j < N4; j += 4) {
      let s = f32x4.splat(0);
      let b = B + (<usize>j << 2);
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        s = madd(v128.load32_splat(a0 + ak), v128.load(b), s);
        b += sb;
        ak += rk;
      }
      store4(c0 + (<usize>j << 2), s, alpha, beta);
    }
    for (let j = N4; j < N; j++) {
      let s: f32 = 0;
      let b = B + (<usize>j << 2);
      let ak: usize = 0;
      for (let k = 0; k < K; k++) {
        s = smadd(load<f32>(a0 + ak), load<f32>(b), s);
        b += sb;
        ak += rk;
      }
      store1(c0 + (<usize>j << 2), s, alpha, beta);
    }
  }
}

/** Blocking of gemmP (BLIS's loop order): a PKC x PNC panel of B packed into 8-column strips stays in L2, a PMC x PKC block of A packed into 4-row strips, and one B strip (PKC x 8, 8 KB) stays in L1 while A's strips pass over it. PKC = KC: every element sums its k in the same blocks as gemmSA. */
const PKC = 128;
const PNC = 512;
const PMC = 128;

/** Floats of gemmP's scratch W. */
export function gemmPScratch(): i32 {
  return PMC * PKC + PKC * PNC + 32;
}

/** The four 4x4 transposes of gemmP's packing: lane r of the result k is row r's element k. */
@inline function tr0(r0: v128, r1: v128): v128 { return v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); }
@inline function tr1(r0: v128, r1: v128): v128 { return v128.shuffle<f32>(r0, r1, 2, 6, 3, 7); }
@inline function lo(t0: v128, t1: v128): v128 { return v128.shuffle<f32>(t0, t1, 0, 1, 4, 5); }
@inline function hi(t0: v128, t1: v128): v128 { return v128.shuffle<f32>(t0, t1, 2, 3, 6, 7); }

/**
 * Packs W consecutive "lanes" (rows i0.. of op(A), or columns of op(B)) over kc values of k into
 * dst, W floats per k (W = 4 or 8), zero past `n` valid lanes. X(lane l, k) = X[l*sl + k*sk].
 */
function packStrip(dst: usize, X: usize, sl: i32, sk: i32, n: i32, kc: i32, W: i32): void {
  const bl = <usize>sl << 2;
  const bk = <usize>sk << 2;
  const wb = <usize>W << 2;
  if (n == W && sl == 1) {
    // lanes contiguous: one or two vector loads per k
    for (let k = 0; k < kc; k++) {
      const s = X + <usize>k * bk;
      const d = dst + <usize>k * wb;
      v128.store(d, v128.load(s));
      if (W == 8) v128.store(d, v128.load(s, 16), 16);
    }
    return;
  }
  if (n == W && sk == 1) {
    // k contiguous in each lane: 4x4 transposes
    const k4 = kc & ~3;
    for (let g: i32 = 0; g < W; g += 4) {
      const x0 = X + <usize>g * bl, x1 = x0 + bl, x2 = x1 + bl, x3 = x2 + bl;
      const d0 = dst + (<usize>g << 2);
      for (let k = 0; k < k4; k += 4) {
        const o = <usize>k << 2;
        const r0 = v128.load(x0 + o), r1 = v128.load(x1 + o), r2 = v128.load(x2 + o), r3 = v128.load(x3 + o);
        const t0 = tr0(r0, r1), t1 = tr0(r2, r3), t2 = tr1(r0, r1), t3 = tr1(r2, r3);
        const d = d0 + <usize>k * wb;
        v128.store(d, lo(t0, t1));
        v128.store(d + wb, hi(t0, t1));
        v128.store(d + 2 * wb, lo(t2, t3));
        v128.store(d + 3 * wb, hi(t2, t3));
      }
      for (let k = k4; k < kc; k++) {
        const d = d0 + <usize>k * wb;
        const o = <usize>k << 2;
        store<f32>(d, load<f32>(x0 + o)); store<f32>(d + 4, load<f32>(x1 + o));
        store<f32>(d + 8, load<f32>(x2 + o)); store<f32>(d + 12, load<f32>(x3 + o));
      }
    }
    return;
  }
  for (let k = 0; k < kc; k++) {
    const d = dst + <usize>k * wb;
    for (let l = 0; l < W; l++) store<f32>(d + (<usize>l << 2), l < n ? load<f32>(X + <usize>l * bl + <usize>k * bk) : 0);
  }
}

/**
 * C (M x N) = alpha * op(A) · op(B) + beta * C for large M, with op(A)(i, k) = A[i*sAi + k*sAk]
 * and op(B)(k, j) = B[k*sBk + j*sBj], so all four transposition cases take one path. Both
 * operands are packed (W scratch: PMC*PKC + PKC*PNC + 32 floats), then 4x8 outer-product tiles
 * read them contiguously. Each element gets gemmSA's arithmetic: a sum over k in order within
 * blocks of PKC, scaled by alpha, plus beta*C (the first block) or C (later blocks).
 */
export function gemmP(M: i32, N: i32, K: i32, alpha: f32, A: usize, sAi: i32, sAk: i32, B: usize, sBk: i32, sBj: i32, beta: f32, C: usize, ldc: i32, W: usize): void {
  if (K == 0) {
    gemmSA(M, N, 0, alpha, A, sAi, sAk, B, N, beta, C, ldc, W);
    return;
  }
  const Bp = W + (<usize>(PMC * PKC) << 2);
  for (let jc = 0; jc < N; jc += PNC) {
    const nc = min<i32>(PNC, N - jc);
    for (let pc = 0; pc < K; pc += PKC) {
      const kc = min<i32>(PKC, K - pc);
      const Bs = B + (<usize>pc * <usize>sBk << 2) + (<usize>jc * <usize>sBj << 2);
      for (let jr = 0; jr < nc; jr += 8) packStrip(Bp + <usize>jr * (<usize>kc << 2), Bs + (<usize>jr * <usize>sBj << 2), sBj, sBk, min<i32>(8, nc - jr), kc, 8);
      const As = A + (<usize>pc * <usize>sAk << 2);
      macroP(M, nc, kc, alpha, As, sAi, sAk, Bp, pc == 0 ? beta : 1, C + (<usize>jc << 2), ldc, W);
    }
  }
}

/** Floats of a K x N matrix packed by packB: its columns padded to a multiple of 8. */
export function packedSize(K: i32, N: i32): i32 {
  return K * ((N + 7) & ~7);
}

/**
 * Packs op(B) (K x N, op(B)(k, j) = B[k*sBk + j*sBj]) once for many gemmPB calls (a recurrent
 * weight, used at every time step): for each block of PKC k, 8-column strips of kc x 8 floats.
 */
export function packB(K: i32, N: i32, B: usize, sBk: i32, sBj: i32, dst: usize): void {
  const Np = (N + 7) & ~7;
  for (let pc = 0; pc < K; pc += PKC) {
    const kc = min<i32>(PKC, K - pc);
    const Bs = B + (<usize>pc * <usize>sBk << 2);
    const D = dst + (<usize>pc * <usize>Np << 2);
    for (let jr = 0; jr < N; jr += 8) packStrip(D + <usize>jr * (<usize>kc << 2), Bs + (<usize>jr * <usize>sBj << 2), sBj, sBk, min<i32>(8, N - jr), kc, 8);
  }
}

/** gemmP with op(B) packed by packB (Bp), op(A)(i, k) = A[i*sAi + k*sAk]: the same arithmetic per element. W: gemmP's scratch. */
export function gemmPB(M: i32, N: i32, K: i32, alpha: f32, A: usize, sAi: i32, sAk: i32, Bp: usize, beta: f32, C: usize, ldc: i32, W: usize): void {
  if (K == 0) {
    gemmSA(M, N, 0, alpha, A, sAi, sAk, Bp, N, beta, C, ldc, W);
    return;
  }
  const Np = (N + 7) & ~7;
  for (let pc = 0; pc < K; pc += PKC) {
    const kc = min<i32>(PKC, K - pc);
    macroP(M, N, kc, alpha, A + (<usize>pc * <usize>sAk << 2), sAi, sAk, Bp + (<usize>pc * <usize>Np << 2), pc == 0 ? beta : 1, C, ldc, W);
  }
}

/** One k block of gemmP: C (M x nc) = alpha * op(A)[:, block] · Bp + beta * C, Bp's nc columns packed in 8-column strips of kc rows; A packed here in 4-row strips of PMC rows at a time. */
function macroP(M: i32, nc: i32, kc: i32, alpha: f32, A: usize, sAi: i32, sAk: i32, Bp: usize, beta: f32, C: usize, ldc: i32, W: usize): void {
  const Ap = W;
  const tile = W + (<usize>(PMC * PKC + PKC * PNC) << 2);
  const sc = <usize>ldc << 2;
  for (let ic = 0; ic < M; ic += PMC) {
    const mc = min<i32>(PMC, M - ic);
    const As = A + (<usize>ic * <usize>sAi << 2);
    for (let ir = 0; ir < mc; ir += 4) packStrip(Ap + <usize>ir * (<usize>kc << 2), As + (<usize>ir * <usize>sAi << 2), sAi, sAk, min<i32>(4, mc - ir), kc, 4);
    for (let jr = 0; jr < nc; jr += 8) {
      const bp = Bp + <usize>jr * (<usize>kc << 2);
      const nr = min<i32>(8, nc - jr);
      for (let ir = 0; ir < mc; ir += 4) {
        const c = C + <usize>(ic + ir) * sc + (<usize>jr << 2);
        tile4x8(kc, Ap + <usize>ir * (<usize>kc << 2), bp, alpha, beta, c, sc, min<i32>(4, mc - ir), nr, tile);
      }
    }
  }
}

/** One 4x8 tile of gemmP over packed strips; a partial tile (mr < 4 or nr < 8) goes through `tile` and stores its valid elements one by one. */
@inline function tile4x8(kc: i32, ap: usize, bp: usize, alpha: f32, beta: f32, c: usize, sc: usize, mr: i32, nr: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a = ap;
  let b = bp;
  const end = ap + (<usize>kc << 4);
  while (a < end) {
    const y0 = v128.load(b), y1 = v128.load(b, 16);
    const x0 = v128.load32_splat(a), x1 = v128.load32_splat(a, 4);
    const x2 = v128.load32_splat(a, 8), x3 = v128.load32_splat(a, 12);
    c00 = madd(x0, y0, c00); c01 = madd(x0, y1, c01);
    c10 = madd(x1, y0, c10); c11 = madd(x1, y1, c11);
    c20 = madd(x2, y0, c20); c21 = madd(x2, y1, c21);
    c30 = madd(x3, y0, c30); c31 = madd(x3, y1, c31);
    a += 16;
    b += 32;
  }
  if (mr == 4 && nr == 8) {
    store4(c, c00, alpha, beta); store4(c + 16, c01, alpha, beta);
    store4(c + sc, c10, alpha, beta); store4(c + sc + 16, c11, alpha, beta);
    store4(c + 2 * sc, c20, alpha, beta); store4(c + 2 * sc + 16, c21, alpha, beta);
    store4(c + 3 * sc, c30, alpha, beta); store4(c + 3 * sc + 16, c31, alpha, beta);
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16); v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80); v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let r = 0; r < mr; r++) {
    for (let j = 0; j < nr; j++) store1(c + <usize>r * sc + (<usize>j << 2), load<f32>(tile + (<usize>(r * 8 + j) << 2)), alpha, beta);
  }
}

// ---------------------------------------------------------------------------------------------
// elementwise and reductions (n elements; 4 at a time, then one-lane tails through the same code)

export function copy(y: usize, x: usize, n: i32): void {
  memory.copy(y, x, <usize>n << 2);
}

export function axpy(y: usize, alpha: f32, x: usize, n: i32): void {
  const a = f32x4.splat(alpha);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(a, v128.load(x + o))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

export function scale(x: usize, alpha: f32, n: i32): void {
  const a = f32x4.splat(alpha);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.mul(a, v128.load(x + o)));
  }
  for (let i = n4; i < n; i++) store<f32>(x + (<usize>i << 2), alpha * load<f32>(x + (<usize>i << 2)));
}

export function mul(y: usize, a: usize, b: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/** out[n, :] = table[ids[n], :], rows of W floats. */
export function gatherRows(out: usize, table: usize, ids: usize, N: i32, W: i32): void {
  const row = <usize>W << 2;
  for (let n = 0; n < N; n++) memory.copy(out + <usize>n * row, table + <usize>load<i32>(ids + (<usize>n << 2)) * row, row);
}

/** table[ids[n], :] += src[n, :], rows of W floats. */
export function scatterAddRows(table: usize, src: usize, ids: usize, N: i32, W: i32): void {
  const row = <usize>W << 2;
  for (let n = 0; n < N; n++) axpy(table + <usize>load<i32>(ids + (<usize>n << 2)) * row, 1, src + <usize>n * row, W);
}

/** C[i, j] += v[j] for an M x N block (row stride N). */
export function addRowVector(C: usize, v: usize, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) axpy(C + (<usize>(i * N) << 2), 1, v, N);
}

/**
 * out[j] += sum_i X[i, j] for an M x N block. Each column's sum adds its rows in order from 0;
 * 32 columns at a time (eight sums in registers) read the rows' 128 bytes in turn, so the
 * block is read along its rows, not down its columns (a row is N floats apart: a column at a
 * time touched a new cache line with every element).
 */
export function sumRows(out: usize, X: usize, M: i32, N: i32): void {
  const N32 = N & ~31;
  const stride = <usize>N << 2;
  for (let j = 0; j < N32; j += 32) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
    let p = X + (<usize>j << 2);
    for (let i = 0; i < M; i++) {
      s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32)); s3 = f32x4.add(s3, v128.load(p, 48));
      s4 = f32x4.add(s4, v128.load(p, 64)); s5 = f32x4.add(s5, v128.load(p, 80));
      s6 = f32x4.add(s6, v128.load(p, 96)); s7 = f32x4.add(s7, v128.load(p, 112));
      p += stride;
    }
    const o = out + (<usize>j << 2);
    v128.store(o, f32x4.add(v128.load(o), s0)); v128.store(o, f32x4.add(v128.load(o, 16), s1), 16);
    v128.store(o, f32x4.add(v128.load(o, 32), s2), 32); v128.store(o, f32x4.add(v128.load(o, 48), s3), 48);
    v128.store(o, f32x4.add(v128.load(o, 64), s4), 64); v128.store(o, f32x4.add(v128.load(o, 80), s5), 80);
    v128.store(o, f32x4.add(v128.load(o, 96), s6), 96); v128.store(o, f32x4.add(v128.load(o, 112), s7), 112);
  }
  const N4 = N & ~3;
  for (let j = N32; j < N4; j += 4) {
    let s = f32x4.splat(0);
    let p = X + (<usize>j << 2);
    for (let i = 0; i < M; i++) {
      s = f32x4.add(s, v128.load(p));
      p += stride;
    }
    const o = out + (<usize>j << 2);
    v128.store(o, f32x4.add(v128.load(o), s));
  }
  for (let j = N4; j < N; j++) {
    let s: f32 = 0;
    for (let i = 0; i < M; i++) s += load<f32>(X + (<usize>(i * N + j) << 2));
    store<f32>(out + (<usize>j << 2), load<f32>(out + (<usize>j << 2)) + s);
  }
}

// activations: forward y = f(x); backward dx = dy * f'(y) from the output y (in place allowed)

export function tanhForward(y: usize, x: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) { const o = <usize>i << 2; v128.store(y + o, vtanh(v128.load(x + o))); }
  for (let i = n4; i < n; i++) { const o = <usize>i << 2; store<f32>(y + o, tanhf(load<f32>(x + o))); }
}

export function tanhBackward(dx: usize, dy: usize, y: usize, n: i32): void {
  const one = f32x4.splat(1);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.sub(one, f32x4.mul(v, v))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (1 - v * v));
  }
}

export function sigmoidForward(y: usize, x: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) { const o = <usize>i << 2; v128.store(y + o, vsigmoid(v128.load(x + o))); }
  for (let i = n4; i < n; i++) { const o = <usize>i << 2; store<f32>(y + o, sigmoidf(load<f32>(x + o))); }
}

export function sigmoidBackward(dx: usize, dy: usize, y: usize, n: i32): void {
  const one = f32x4.splat(1);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.mul(v, f32x4.sub(one, v))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * v * (1 - v));
  }
}

export function reluForward(y: usize, x: usize, n: i32): void {
  const z = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) { const o = <usize>i << 2; v128.store(y + o, f32x4.pmax(z, v128.load(x + o))); }
  for (let i = n4; i < n; i++) { const o = <usize>i << 2; const v = load<f32>(x + o); store<f32>(y + o, v > 0 ? v : 0); }
}

export function reluBackward(dx: usize, dy: usize, y: usize, n: i32): void {
  const z = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), z)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

// ---------------------------------------------------------------------------------------------
// fused cells (B rows, H per gate block; gate order as PyTorch). Lanes j..j+3 go through the
// vector code, the last H % 4 through the same formulas in scalar code (tanhf and sigmoidf are
// lane 0 of the vector functions, so every element gets the same arithmetic).

export function lstmCellForward(gates: usize, c: usize, tc: usize, h: usize, cPrev: usize, B: i32, H: i32): void {
  const rowG = <usize>(4 * H) << 2;
  const rowH = <usize>H << 2;
  const blk = <usize>H << 2;
  const H4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const g = gates + <usize>b * rowG;
    const r = <usize>b * rowH;
    for (let j = 0; j < H4; j += 4) {
      const o = <usize>j << 2;
      const i = vsigmoid(v128.load(g + o));
      const f = vsigmoid(v128.load(g + blk + o));
      const gg = vtanh(v128.load(g + 2 * blk + o));
      const og = vsigmoid(v128.load(g + 3 * blk + o));
      v128.store(g + o, i); v128.store(g + blk + o, f); v128.store(g + 2 * blk + o, gg); v128.store(g + 3 * blk + o, og);
      const cv = f32x4.add(f32x4.mul(f, v128.load(cPrev + r + o)), f32x4.mul(i, gg)); // c = f*c_prev + i*g
      v128.store(c + r + o, cv);
      const t = vtanh(cv);
      v128.store(tc + r + o, t);
      v128.store(h + r + o, f32x4.mul(og, t)); // h = o*tanh(c)
    }
    for (let j = H4; j < H; j++) {
      const o = <usize>j << 2;
      const i = sigmoidf(load<f32>(g + o));
      const f = sigmoidf(load<f32>(g + blk + o));
      const gg = tanhf(load<f32>(g + 2 * blk + o));
      const og = sigmoidf(load<f32>(g + 3 * blk + o));
      store<f32>(g + o, i); store<f32>(g + blk + o, f); store<f32>(g + 2 * blk + o, gg); store<f32>(g + 3 * blk + o, og);
      const cv = f * load<f32>(cPrev + r + o) + i * gg;
      store<f32>(c + r + o, cv);
      const t = tanhf(cv);
      store<f32>(tc + r + o, t);
      store<f32>(h + r + o, og * t);
    }
  }
}

export function lstmCellBackward(dgates: usize, dcPrev: usize, dh: usize, dcNext: usize, gates: usize, tc: usize, cPrev: usize, B: i32, H: i32): void {
  const rowG = <usize>(4 * H) << 2;
  const rowH = <usize>H << 2;
  const blk = <usize>H << 2;
  const H4 = H & ~3;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const g = gates + <usize>b * rowG;
    const dg = dgates + <usize>b * rowG;
    const r = <usize>b * rowH;
    for (let j = 0; j < H4; j += 4) {
      const o = <usize>j << 2;
      const i = v128.load(g + o), f = v128.load(g + blk + o), gg = v128.load(g + 2 * blk + o), og = v128.load(g + 3 * blk + o);
      const t = v128.load(tc + r + o);
      const d = v128.load(dh + r + o);
      // through h = o*tanh(c) into c, joining what came from step t+1
      const dc = f32x4.add(v128.load(dcNext + r + o), f32x4.mul(f32x4.mul(d, og), f32x4.sub(one, f32x4.mul(t, t))));
      v128.store(dg + o, f32x4.mul(f32x4.mul(dc, gg), f32x4.mul(i, f32x4.sub(one, i))));
      v128.store(dg + blk + o, f32x4.mul(f32x4.mul(dc, v128.load(cPrev + r + o)), f32x4.mul(f, f32x4.sub(one, f))));
      v128.store(dg + 2 * blk + o, f32x4.mul(f32x4.mul(dc, i), f32x4.sub(one, f32x4.mul(gg, gg))));
      v128.store(dg + 3 * blk + o, f32x4.mul(f32x4.mul(d, t), f32x4.mul(og, f32x4.sub(one, og))));
      v128.store(dcPrev + r + o, f32x4.mul(dc, f));
    }
    for (let j = H4; j < H; j++) {
      const o = <usize>j << 2;
      const i = load<f32>(g + o), f = load<f32>(g + blk + o), gg = load<f32>(g + 2 * blk + o), og = load<f32>(g + 3 * blk + o);
      const t = load<f32>(tc + r + o);
      const d = load<f32>(dh + r + o);
      const dc = load<f32>(dcNext + r + o) + (d * og) * (1 - t * t);
      store<f32>(dg + o, (dc * gg) * (i * (1 - i)));
      store<f32>(dg + blk + o, (dc * load<f32>(cPrev + r + o)) * (f * (1 - f)));
      store<f32>(dg + 2 * blk + o, (dc * i) * (1 - gg * gg));
      store<f32>(dg + 3 * blk + o, (d * t) * (og * (1 - og)));
      store<f32>(dcPrev + r + o, dc * f);
    }
  }
}

export function gruCellForward(gates: usize, ghn: usize, h: usize, gi: usize, gh: usize, hPrev: usize, B: i32, H: i32): void {
  const rowG = <usize>(3 * H) << 2;
  const rowH = <usize>H << 2;
  const blk = <usize>H << 2;
  const H4 = H & ~3;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const g = gates + <usize>b * rowG;
    const a = gi + <usize>b * rowG;
    const e = gh + <usize>b * rowG;
    const q = <usize>b * rowH;
    for (let j = 0; j < H4; j += 4) {
      const o = <usize>j << 2;
      const r = vsigmoid(f32x4.add(v128.load(a + o), v128.load(e + o)));
      const z = vsigmoid(f32x4.add(v128.load(a + blk + o), v128.load(e + blk + o)));
      const hn = v128.load(e + 2 * blk + o);
      const n = vtanh(f32x4.add(v128.load(a + 2 * blk + o), f32x4.mul(r, hn))); // the reset gate scales W_hn h + b_hn
      v128.store(g + o, r); v128.store(g + blk + o, z); v128.store(g + 2 * blk + o, n);
      v128.store(ghn + q + o, hn);
      v128.store(h + q + o, f32x4.add(f32x4.mul(f32x4.sub(one, z), n), f32x4.mul(z, v128.load(hPrev + q + o))));
    }
    for (let j = H4; j < H; j++) {
      const o = <usize>j << 2;
      const r = sigmoidf(load<f32>(a + o) + load<f32>(e + o));
      const z = sigmoidf(load<f32>(a + blk + o) + load<f32>(e + blk + o));
      const hn = load<f32>(e + 2 * blk + o);
      const n = tanhf(load<f32>(a + 2 * blk + o) + r * hn);
      store<f32>(g + o, r); store<f32>(g + blk + o, z); store<f32>(g + 2 * blk + o, n);
      store<f32>(ghn + q + o, hn);
      store<f32>(h + q + o, (1 - z) * n + z * load<f32>(hPrev + q + o));
    }
  }
}

export function gruCellBackward(dgi: usize, dgh: usize, dhPrev: usize, dh: usize, gates: usize, ghn: usize, hPrev: usize, B: i32, H: i32): void {
  const rowG = <usize>(3 * H) << 2;
  const rowH = <usize>H << 2;
  const blk = <usize>H << 2;
  const H4 = H & ~3;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const g = gates + <usize>b * rowG;
    const di = dgi + <usize>b * rowG;
    const dk = dgh + <usize>b * rowG;
    const q = <usize>b * rowH;
    for (let j = 0; j < H4; j += 4) {
      const o = <usize>j << 2;
      const r = v128.load(g + o), z = v128.load(g + blk + o), n = v128.load(g + 2 * blk + o);
      const d = v128.load(dh + q + o);
      const dn = f32x4.mul(f32x4.mul(d, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n))); // through (1-z)*n, then tanh
      const dz = f32x4.mul(f32x4.mul(d, f32x4.sub(v128.load(hPrev + q + o), n)), f32x4.mul(z, f32x4.sub(one, z))); // through z*(hPrev - n), then σ
      const dr = f32x4.mul(f32x4.mul(dn, v128.load(ghn + q + o)), f32x4.mul(r, f32x4.sub(one, r))); // through r*gh_n, then σ
      v128.store(di + o, dr); v128.store(di + blk + o, dz); v128.store(di + 2 * blk + o, dn);
      v128.store(dk + o, dr); v128.store(dk + blk + o, dz); v128.store(dk + 2 * blk + o, f32x4.mul(dn, r));
      v128.store(dhPrev + q + o, f32x4.mul(d, z));
    }
    for (let j = H4; j < H; j++) {
      const o = <usize>j << 2;
      const r = load<f32>(g + o), z = load<f32>(g + blk + o), n = load<f32>(g + 2 * blk + o);
      const d = load<f32>(dh + q + o);
      const dn = (d * (1 - z)) * (1 - n * n);
      const dz = (d * (load<f32>(hPrev + q + o) - n)) * (z * (1 - z));
      const dr = (dn * load<f32>(ghn + q + o)) * (r * (1 - r));
      store<f32>(di + o, dr); store<f32>(di + blk + o, dz); store<f32>(di + 2 * blk + o, dn);
      store<f32>(dk + o, dr); store<f32>(dk + blk + o, dz); store<f32>(dk + 2 * blk + o, dn * r);
      store<f32>(dhPrev + q + o, d * z);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// softmax cross-entropy (targets: i32 ids)

/** probs = softmax(logits) per row; returns the summed -log p[target] over rows whose target is not ignoreIndex. */
export function softmaxXentForward(probs: usize, logits: usize, targets: usize, N: i32, V: i32, ignoreIndex: i32): f64 {
  let loss: f64 = 0;
  const V4 = V & ~3;
  for (let i = 0; i < N; i++) {
    const l = logits + (<usize>(i * V) << 2);
    const p = probs + (<usize>(i * V) << 2);
    // subtract the row max so exp never overflows
    let mv = f32x4.splat(-Infinity);
    for (let j = 0; j < V4; j += 4) mv = f32x4.max(mv, v128.load(l + (<usize>j << 2)));
    let mx = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (let j = V4; j < V; j++) mx = max<f32>(mx, load<f32>(l + (<usize>j << 2)));
    const m4 = f32x4.splat(mx);
    let sv = f32x4.splat(0);
    for (let j = 0; j < V4; j += 4) {
      const o = <usize>j << 2;
      const e = vexp(f32x4.sub(v128.load(l + o), m4));
      v128.store(p + o, e);
      sv = f32x4.add(sv, e);
    }
    let sum: f64 = <f64>hsum(sv);
    for (let j = V4; j < V; j++) {
      const o = <usize>j << 2;
      const e = sexp(load<f32>(l + o) - mx);
      store<f32>(p + o, e);
      sum += <f64>e;
    }
    const inv = <f32>(1 / sum);
    scale(p, inv, V);
    const t = load<i32>(targets + (<usize>i << 2));
    if (t == ignoreIndex) continue;
    // -log softmax(z)_t = log(sum exp(z - max)) - (z_t - max)
    loss += Math.log(sum) - <f64>(load<f32>(l + (<usize>t << 2)) - mx);
  }
  return loss;
}

export function softmaxXentBackward(dlogits: usize, probs: usize, targets: usize, N: i32, V: i32, ignoreIndex: i32, s: f32): void {
  const sv = f32x4.splat(s);
  const V4 = V & ~3;
  for (let i = 0; i < N; i++) {
    const d = dlogits + (<usize>(i * V) << 2);
    const p = probs + (<usize>(i * V) << 2);
    const t = load<i32>(targets + (<usize>i << 2));
    if (t == ignoreIndex) {
      memory.fill(d, 0, <usize>V << 2);
      continue;
    }
    for (let j = 0; j < V4; j += 4) v128.store(d + (<usize>j << 2), f32x4.mul(sv, v128.load(p + (<usize>j << 2))));
    for (let j = V4; j < V; j++) store<f32>(d + (<usize>j << 2), s * load<f32>(p + (<usize>j << 2)));
    store<f32>(d + (<usize>t << 2), load<f32>(d + (<usize>t << 2)) - s);
  }
}

// ---------------------------------------------------------------------------------------------
// reductions for norms, and the optimizer updates (float32; the scalars come from train/optim.ts)

/** Sum of squares of n floats, accumulated in float64 (two f64x2 lanes) so long vectors lose nothing. */
export function sumSquares(x: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (let i = n4; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    s += v * v;
  }
  return s;
}

export function sgdStep(p: usize, g: usize, buf: usize, n: i32, lr: f32, mu: f32, dampening: f32, wd: f32, nesterov: i32, first: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    let d = load<f32>(g + o);
    if (wd != 0) d += wd * load<f32>(p + o);
    if (buf) {
      const bv: f32 = first ? d : mu * load<f32>(buf + o) + (1 - dampening) * d;
      store<f32>(buf + o, bv);
      d = nesterov ? d + mu * bv : bv;
    }
    store<f32>(p + o, load<f32>(p + o) - lr * d);
  }
}

export function adagradStep(p: usize, g: usize, sum: usize, n: i32, clr: f32, wd: f32, eps: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    let d = load<f32>(g + o);
    if (wd != 0) d += wd * load<f32>(p + o);
    const s = load<f32>(sum + o) + d * d;
    store<f32>(sum + o, s);
    store<f32>(p + o, load<f32>(p + o) - (clr * d) / (Mathf.sqrt(s) + eps));
  }
}

export function rmspropStep(p: usize, g: usize, v: usize, m: usize, buf: usize, n: i32, lr: f32, alpha: f32, eps: f32, wd: f32, mu: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    let d = load<f32>(g + o);
    if (wd != 0) d += wd * load<f32>(p + o);
    const vv = alpha * load<f32>(v + o) + (1 - alpha) * d * d;
    store<f32>(v + o, vv);
    let avg: f32;
    if (m) {
      const mm = alpha * load<f32>(m + o) + (1 - alpha) * d;
      store<f32>(m + o, mm);
      avg = Mathf.sqrt(vv - mm * mm) + eps;
    } else {
      avg = Mathf.sqrt(vv) + eps;
    }
    if (buf) {
      const bv = mu * load<f32>(buf + o) + d / avg;
      store<f32>(buf + o, bv);
      store<f32>(p + o, load<f32>(p + o) - lr * bv);
    } else {
      store<f32>(p + o, load<f32>(p + o) - (lr * d) / avg);
    }
  }
}

/** Adam / AdamW over n floats; the common case (no AMSGrad) 4 at a time. */
export function adamStep(p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32, stepSize: f32, b1: f32, b2: f32, eps: f32, l2: f32, decay: f32, bc2Sqrt: f32): void {
  let i = 0;
  if (!vmax) {
    const vb1 = f32x4.splat(b1), vc1 = f32x4.splat(1 - b1), vb2 = f32x4.splat(b2), vc2 = f32x4.splat(1 - b2);
    const vl2 = f32x4.splat(l2), vdecay = f32x4.splat(decay), vstep = f32x4.splat(stepSize), veps = f32x4.splat(eps), vbc = f32x4.splat(bc2Sqrt);
    const n4 = n & ~3;
    for (; i < n4; i += 4) {
      const o = <usize>i << 2;
      let pv = f32x4.mul(v128.load(p + o), vdecay);
      const d = f32x4.add(v128.load(g + o), f32x4.mul(vl2, pv));
      const mv = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vc1, d));
      const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vc2, f32x4.mul(d, d)));
      v128.store(m + o, mv);
      v128.store(v + o, vv);
      pv = f32x4.sub(pv, f32x4.div(f32x4.mul(vstep, mv), f32x4.add(f32x4.div(f32x4.sqrt(vv), vbc), veps)));
      v128.store(p + o, pv);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o) * decay;
    const d = load<f32>(g + o) + l2 * pv;
    const mv = b1 * load<f32>(m + o) + (1 - b1) * d;
    const vv = b2 * load<f32>(v + o) + (1 - b2) * d * d;
    store<f32>(m + o, mv);
    store<f32>(v + o, vv);
    let s = vv;
    if (vmax) {
      s = max<f32>(load<f32>(vmax + o), vv);
      store<f32>(vmax + o, s);
    }
    store<f32>(p + o, pv - (stepSize * mv) / (Mathf.sqrt(s) / bc2Sqrt + eps));
  }
}
