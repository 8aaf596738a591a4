// Worker threads for data parallelism in Node (train/parallel.ts holds the platform-neutral part).

import { Worker } from "node:worker_threads";
import type { ShardInit, Spawn } from "../train/parallel.js";

/** The worker script: the built file beside this one (from the TypeScript sources, the build's copy). */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith(".ts") ? new URL("../../dist/node/shard-worker.js", here) : new URL("./shard-worker.js", here);
}

/** Starts Node worker threads running shards; they never keep the process alive on their own. */
export const nodeSpawn: Spawn = (init: ShardInit) => {
  const w = new Worker(workerUrl(), { workerData: init });
  w.unref();
  w.on("error", (e) => process.stderr.write(`rnnlab: worker ${init.shard} failed: ${e.message}\n`));
  return { terminate: () => void w.terminate() };
};
