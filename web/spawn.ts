// The lab's training worker, made in one place: main.ts makes the first one early, and the page
// (app.ts) makes a new one when the user restarts a worker that died.

/** A new training worker (worker.ts; Vite bundles it from this URL). */
export function createWorker(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
}
