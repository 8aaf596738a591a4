// A whole training run from code: an LSTM on tiny Shakespeare with a warm-up, a cosine schedule and early stopping.
import { readFileSync } from "node:fs";
import { encodeText, TrainingSession } from "rnnlab";

const text = readFileSync(new URL("../data/tinyshakespeare.txt", import.meta.url), "utf8").slice(0, 60_000);
const train = { lr: 4e-3, warmup: 50, schedule: { type: "cosine", tMax: 2950 } }; // a linear warm-up, then CosineAnnealingLR
const settings = { model: { cell: "lstm", hiddenSize: 128 }, train, steps: 3000, evalEvery: 100, sampleLength: 0, earlyStop: { patience: 2 } };
const onEval = (e) => console.log(`step ${e.step}: val ${e.val.toFixed(3)} nats/char, next lr ${e.lr.toExponential(2)}${e.best ? " (best)" : ""}`);
const session = new TrainingSession({ ...encodeText(text), path: "tiny Shakespeare, first 60k" }, settings, { onEval });
const { reason, steps } = await session.train();
console.log(`ended after ${steps} steps (${reason}); best ${session.info.bestVal.toFixed(3)} at step ${session.info.bestStep}`);
console.log(`ROMEO:${session.sample(160, 0.8, "ROMEO:")}`);
session.dispose();
