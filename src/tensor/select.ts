// Which kernel set runs when a caller does not pass one, chosen once: the WebAssembly SIMD set
// where the runtime supports it (probed by compiling it), else the tiled TypeScript set. The
// choice can be forced with useKernels() or, in Node, the environment variable RNNLAB_KERNELS
// (wasm, js, or js-reference for the naive loops).

import { jsKernels, jsTiledKernels } from "./js-kernels.js";
import type { Kernels } from "./kernels.js";
import { createWasmKernels } from "./wasm/wasm-kernels.js";

/** A kernel set by name; "auto" is WebAssembly SIMD when available, else "js". */
export type KernelChoice = "auto" | "wasm" | "js" | "js-reference";

let chosen: Kernels | null = null;
let wasm: ReturnType<typeof createWasmKernels> | undefined;

/** The WebAssembly SIMD kernel set (one per program, over one shared memory), or null if unsupported. */
export function wasmKernels(): ReturnType<typeof createWasmKernels> {
  if (wasm === undefined) wasm = createWasmKernels();
  return wasm;
}

/**
 * Selects the default kernel set (what a new ParamStore gets when none is given) and returns
 * it. A model keeps the set its store was made with.
 */
export function useKernels(choice: KernelChoice): Kernels {
  let k: Kernels | null;
  if (choice === "js") k = jsTiledKernels;
  else if (choice === "js-reference") k = jsKernels;
  else {
    k = wasmKernels();
    if (!k && choice === "wasm") throw new Error("rnnlab: this runtime has no WebAssembly SIMD with shared memory; use the js kernels");
    k ??= jsTiledKernels;
  }
  chosen = k;
  return k;
}

/** The kernel set used when a caller does not pass one (selected on first use). */
export function defaultKernels(): Kernels {
  if (chosen) return chosen;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.RNNLAB_KERNELS;
  const valid: KernelChoice[] = ["auto", "wasm", "js", "js-reference"];
  return useKernels(env && (valid as string[]).includes(env) ? (env as KernelChoice) : "auto");
}
