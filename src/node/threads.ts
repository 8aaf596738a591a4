// Worker threads for data parallelism in Node (train/parallel.ts holds the platform-neutral part).

import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { packagePath } from "./package.js";
import type { ShardInit, Spawn } from "../train/parallel.js";

/** The worker script: the build's (an ES module, also when the caller runs the CommonJS bundle or the TypeScript sources). */
function workerUrl(): URL {
  return pathToFileURL(packagePath("dist", "node", "shard-worker.js"));
}

/** Starts Node worker threads running shards; they never keep the process alive on their own. */
export const nodeSpawn: Spawn = (init: ShardInit) => {
  const w = new Worker(workerUrl(), { workerData: init });
  w.unref();
  w.on("error", (e) => process.stderr.write(`rnnlab: worker ${init.shard} failed: ${e.message}\n`));
  return { terminate: () => void w.terminate() };
};
