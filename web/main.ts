// The lab's entry point: start the training worker first (it loads the engine and computes the
// first error surface while the page loads vega), then load the page's code and hand it over.

import { SURFACE, SURFACE_START, type FromWorker, type ToWorker } from "./protocol.js";
import { createWorker } from "./spawn.js";

const worker = createWorker();
const early: MessageEvent<FromWorker>[] = [];
const hold = (e: MessageEvent<FromWorker>) => early.push(e);
worker.addEventListener("message", hold);
worker.postMessage({ type: "surface", start: [...SURFACE_START], ...SURFACE } satisfies ToWorker);

const { attach } = await import("./app.js");
worker.removeEventListener("message", hold);
attach(worker, early);
