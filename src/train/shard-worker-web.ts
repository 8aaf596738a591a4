// The entry point of a data-parallel Web Worker: receive the ShardInit, build the shard, serve commands.

import { createWasmKernels } from "../tensor/wasm/wasm-kernels.js";
import { runShardWorker, type ShardInit } from "./parallel.js";

globalThis.addEventListener(
  "message",
  (e: Event) => {
    runShardWorker((e as MessageEvent<ShardInit>).data, (module, memory) => createWasmKernels(module, memory));
  },
  { once: true },
);
