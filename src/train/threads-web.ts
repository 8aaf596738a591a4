// Web Workers for data parallelism in browsers (train/parallel.ts holds the platform-neutral part).
// The page must be cross-origin isolated (COOP and COEP headers) for the workers to share the
// WebAssembly memory, and the training loop itself must run in a worker, where Atomics.wait is
// allowed. Bundlers (Vite, webpack) follow the `new URL(..., import.meta.url)` below.

import type { ShardInit, Spawn } from "./parallel.js";

/** Starts a module Web Worker running one shard. */
export const webSpawn: Spawn = (init: ShardInit) => {
  const w = new Worker(new URL("./shard-worker-web.js", import.meta.url), { type: "module" });
  w.postMessage(init);
  return { terminate: () => w.terminate() };
};
