// Which kernel set runs when a caller does not pass one, chosen once: the WebAssembly SIMD set
// where the runtime supports it (probed by compiling it; its build with relaxed-SIMD fused
// multiply-adds where the runtime accepts that too), else the tiled TypeScript set. The choice can
// be forced with useKernels() or, in Node, the environment variable RNNLAB_KERNELS (wasm,
// wasm-exact for the build without fused multiply-adds, js, or js-reference for the naive loops).

import { InputError, ResourceError } from "../errors.js";
import { jsKernels, jsTiledKernels } from "./js-kernels.js";
import type { Kernels } from "./kernels.js";
import { compileKernels, createWasmKernels, type WasmBuild, type WasmKernels } from "./wasm/wasm-kernels.js";

/**
 * A kernel set by name: "auto" is WebAssembly SIMD when available, else "js"; "wasm" the
 * WebAssembly set (its fused multiply-add build where the runtime accepts relaxed SIMD),
 * "wasm-exact" its build that rounds every product (the same bits on every runtime).
 */
export type KernelChoice = "auto" | "wasm" | "wasm-exact" | "js" | "js-reference";

/** Every {@link KernelChoice}, in the order the error messages list them. */
export const KERNEL_CHOICES: readonly KernelChoice[] = ["auto", "wasm", "wasm-exact", "js", "js-reference"];

let chosen: Kernels | null = null;
const sets: { fma?: WasmKernels | null; exact?: WasmKernels | null } = {};

/**
 * The WebAssembly SIMD kernel set of one build (one per program and build, each over its own
 * shared memory), or null if unsupported. `"auto"` (the default): the fused multiply-add build
 * where the runtime accepts relaxed SIMD, else the exact build. See {@link WasmBuild}.
 */
export function wasmKernels(build: WasmBuild = "auto"): WasmKernels | null {
  if (build === "auto") return wasmKernels("fma") ?? wasmKernels("exact");
  if (sets[build] === undefined) sets[build] = createWasmKernels(compileKernels(build));
  return sets[build] ?? null;
}

/**
 * Selects the default kernel set (what a new ParamStore gets when none is given) and returns
 * it. A model keeps the set its store was made with.
 */
export function useKernels(choice: KernelChoice): Kernels {
  if (!(KERNEL_CHOICES as readonly unknown[]).includes(choice))
    throw new InputError(`no kernel set named ${JSON.stringify(choice)}; choose one of ${KERNEL_CHOICES.join(", ")}`);
  let k: Kernels | null;
  if (choice === "js") k = jsTiledKernels;
  else if (choice === "js-reference") k = jsKernels;
  else {
    k = wasmKernels(choice === "wasm-exact" ? "exact" : "auto");
    if (!k && (choice === "wasm" || choice === "wasm-exact"))
      throw new ResourceError(`this runtime has no WebAssembly SIMD with shared memory, which the ${choice} kernels need; use the js kernels`);
    k ??= jsTiledKernels;
  }
  chosen = k;
  return k;
}

/**
 * The kernel set used when a caller does not pass one (selected on first use: RNNLAB_KERNELS in
 * Node when set, else "auto"). An RNNLAB_KERNELS that names no set throws an InputError rather
 * than running another set than the one asked for.
 */
export function defaultKernels(): Kernels {
  if (chosen) return chosen;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.RNNLAB_KERNELS;
  if (!env) return useKernels("auto");
  if (!(KERNEL_CHOICES as readonly string[]).includes(env))
    throw new InputError(`RNNLAB_KERNELS is ${JSON.stringify(env)}, which names no kernel set; set it to one of ${KERNEL_CHOICES.join(", ")}, or unset it`);
  return useKernels(env as KernelChoice);
}
