// The entry point of a data-parallel worker thread in Node: build the shard and serve commands.

import { workerData } from "node:worker_threads";
import { createWasmKernels } from "../tensor/wasm/wasm-kernels.js";
import { runShardWorker, type ShardInit } from "../train/parallel.js";

runShardWorker(workerData as ShardInit, (module, memory) => createWasmKernels(module, memory));
