// Node 20's V8 knows WebAssembly relaxed SIMD but keeps it behind a flag (Node 22 and Chromium
// accept it by default). The command line turns it on before its first kernel set is made, so
// the WebAssembly kernels' fused multiply-add build runs; a library user may do the same.

import v8 from "node:v8";
import { fusedKernelsValidate } from "../tensor/wasm/wasm-kernels.js";

/**
 * Lets this process's V8 compile WebAssembly relaxed SIMD, which the kernels' fused
 * multiply-add build needs (`f32x4.relaxed_madd` in the matrix products: about a third faster
 * where the CPU has FMA). Sets `--experimental-wasm-relaxed-simd` only where the runtime does not
 * already accept it (Node 20); call it before the first model or kernel set is made, because the
 * kernel set is chosen once. Kernel sets made before the call keep their build.
 *
 * @returns whether the fused build is now available.
 */
export function allowRelaxedSimd(): boolean {
  if (fusedKernelsValidate()) return true;
  try {
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    return false;
  }
  return fusedKernelsValidate();
}
