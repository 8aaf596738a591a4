// Fuzzing what a checkpoint says (fast-check): a valid checkpoint of a small run, its
// `__metadata__` and tensor header edited at random (values replaced by random JSON or strings,
// nested fields changed or deleted, keys added or removed, characters flipped; dtypes, shapes and
// offsets changed; data bytes flipped), then loaded the way `rnnlab train --resume` and
// `rnnlab sample` load it. Each load either throws one of rnnlab's error classes with a one-line
// message, or gives a run that is consistent: finite weights that train on without a NaN
// reaching them, and a snapshot that restores again. Never a TypeError, never a poisoned model.
// Deterministic by default; RNNLAB_FUZZ_SEED=n picks another seed, RNNLAB_FUZZ_SCALE=k runs k
// times as many inputs.

import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { joinSafetensors, splitSafetensors } from "../../test/helpers/safetensors-bytes.js";
import { encodeText, type TokenArray } from "../data/corpus.js";
import { CheckpointError, InputError, ResourceError } from "../errors.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../io/safetensors.js";
import { modelFromSnapshot, TrainingRun, type RunConfig, type Snapshot } from "./run.js";
import { firstNonFinite, parseRunConfig, parseRunInfo, type RunInfo } from "./schema.js";
import { NonFiniteError } from "./trainer.js";

const SEED = Number(process.env.RNNLAB_FUZZ_SEED ?? 20261203);
const SCALE = Number(process.env.RNNLAB_FUZZ_SCALE ?? 1);
const runs = (n: number) => ({ seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)) });

const TEXT = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to __\n".repeat(8);
const { vocab, tokens } = encodeText(TEXT);
const nTrain = Math.floor(tokens.length * 0.9);
const train = tokens.subarray(0, nTrain) as TokenArray;
const val = tokens.subarray(nTrain) as TokenArray;

function makeCheckpoint(cell: RunConfig["model"]["cell"], optimizer: RunConfig["train"]["optimizer"], k2: number): Uint8Array {
  const config: RunConfig = {
    model: { cell, vocabSize: vocab.size, embedSize: 5, hiddenSize: 6, numLayers: 2, nonlinearity: "tanh", tieWeights: false, dropout: 0.1, init: "default" },
    train: { batch: 3, k1: 4, k2, optimizer, lr: 3e-3, momentum: 0.9, weightDecay: 0, clipNorm: 1, clipValue: null, nonFinite: "stop", seed: 2 },
  };
  const run = new TrainingRun(config, vocab, train, val);
  for (let i = 0; i < 3; i++) run.step();
  const info: RunInfo = {
    data: { path: "jane.txt", chars: tokens.length, hash: 12345, valFraction: 0.1, tokens: "chars" },
    targetSteps: 100,
    evalEvery: 10,
    saveEvery: 10,
    sampleLength: 0,
    bestVal: 2.5,
    bestStep: 3,
    finished: false,
  };
  const snap = run.snapshot({ run: JSON.stringify(info) });
  return encodeSafetensors(snap.tensors, snap.metadata);
}

const BASES = [makeCheckpoint("lstm", "adam", 6), makeCheckpoint("gru", "rmsprop", 4), makeCheckpoint("rnn", "sgd", 7)];

const split = splitSafetensors;
const join = joinSafetensors;

const stats = { loads: 0, refused: 0, loaded: 0, stepped: 0, nonFinite: 0 };
const t0 = performance.now();

/**
 * Loads bytes as rnnlab does: decode, the "run" metadata and config checked (resume), the run
 * restored on the same text; and the weights alone (sample). Returns the run, or null when refused.
 */
function load(bytes: Uint8Array): TrainingRun | null {
  stats.loads++;
  try {
    const { tensors, metadata } = decodeSafetensors(bytes);
    const snap: Snapshot = { tensors: Object.fromEntries(tensors), metadata };
    modelFromSnapshot(snap);
    parseRunInfo(JSON.parse(snap.metadata.run ?? "null"));
    parseRunConfig(JSON.parse(snap.metadata.config ?? "null"));
    return TrainingRun.restore(snap, train, val);
  } catch (e) {
    if (e instanceof SafetensorsError || e instanceof CheckpointError || e instanceof InputError || e instanceof ResourceError || e instanceof SyntaxError) {
      // SyntaxError: JSON.parse of the "run" metadata here; the CLI reports it as a CheckpointError
      expect(e.message).not.toMatch(/\n/);
      stats.refused++;
      return null;
    }
    throw e;
  }
}

/** A run that loaded must be consistent: finite everywhere, training on without poisoning, restoring again. */
function consistent(run: TrainingRun): void {
  stats.loaded++;
  expect(firstNonFinite(run.model.store.values)).toBeNull();
  for (const b of Object.values(run.optimizer.stateBuffers())) expect(firstNonFinite(b)).toBeNull();
  const before = run.model.store.values.slice();
  try {
    run.step();
    stats.stepped++;
  } catch (e) {
    if (!(e instanceof NonFiniteError)) throw e;
    stats.nonFinite++;
    expect(run.model.store.values).toEqual(before); // the update was undone
  }
  expect(firstNonFinite(run.model.store.values)).toBeNull();
  const again = run.snapshot();
  const copy = decodeSafetensors(encodeSafetensors(again.tensors, again.metadata));
  const back = TrainingRun.restore({ tensors: Object.fromEntries(copy.tensors), metadata: copy.metadata }, train, val);
  expect(back.model.store.values).toEqual(run.model.store.values);
  expect(back.steps).toBe(run.steps);
}

/** A random JSON value, or a path-wise edit of `v` when it is an object or list. */
function editJson(v: unknown, pick: number[], replacement: unknown, mode: number): unknown {
  if (v === null || typeof v !== "object" || pick.length === 0) return replacement;
  const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v as object);
  if (keys.length === 0) return replacement;
  const key = keys[pick[0] % keys.length];
  const copy: Record<string | number, unknown> = Array.isArray(v) ? ([...v] as unknown as Record<number, unknown>) : { ...(v as Record<string, unknown>) };
  if (pick.length === 1 && mode === 1) {
    if (Array.isArray(copy)) (copy as unknown as unknown[]).splice(key as number, 1);
    else delete copy[key];
  } else if (pick.length === 1 && mode === 2 && !Array.isArray(copy)) {
    copy[`x${pick[0]}`] = replacement;
  } else {
    copy[key] = editJson(copy[key], pick.slice(1), replacement, mode);
  }
  return copy;
}

const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(0, -1, 1e9, 1e12, 2 ** 31, 1e39, -1e39, 0.5, 1e-50, "", "NaN", null, true, [], {}, "lstm", "words", 65),
);

describe("checkpoint metadata and header under random edits", () => {
  it("metadata values: replaced, edited inside, deleted, added, flipped (1,200 cases)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: BASES.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        jsonValue,
        fc.string({ maxLength: 12 }),
        fc.nat(),
        (base, keyPick, how, path, value, str, pos) => {
          const { header, data } = split(BASES[base]);
          const meta = { ...(header.__metadata__ as Record<string, string>) };
          const keys = Object.keys(meta);
          const key = keys[keyPick % keys.length];
          if (how === 0) delete meta[key];
          else if (how === 1) meta[key] = str;
          else if (how === 2) meta[key] = JSON.stringify(value);
          else if (how === 3) {
            let parsed: unknown;
            try {
              parsed = JSON.parse(meta[key]);
            } catch {
              parsed = meta[key];
            }
            meta[key] = JSON.stringify(editJson(parsed, path, value, path[0] % 3));
          } else if (how === 4) {
            const s = meta[key];
            const i = pos % Math.max(1, s.length);
            meta[key] = s.slice(0, i) + String.fromCharCode((s.charCodeAt(i) || 48) ^ (1 << (pos % 7))) + s.slice(i + 1);
          } else {
            meta[str || "extra"] = JSON.stringify(value);
          }
          const run = load(join({ ...header, __metadata__: meta }, data));
          if (run) consistent(run);
        },
      ),
      runs(1200),
    );
  });

  it("tensor entries: dtype, shape and offsets changed; entries deleted or renamed (500 cases)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: BASES.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom("F32", "F64", "F16", "BF16", "I32", "U8", "f32"),
        fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 4 }),
        fc.nat(),
        (base, pick, how, dtype, shape, n) => {
          const { header, data } = split(BASES[base]);
          const names = Object.keys(header).filter((k) => k !== "__metadata__");
          const name = names[pick % names.length];
          const entry = { ...(header[name] as { dtype: string; shape: number[]; data_offsets: number[] }) };
          const h: Record<string, unknown> = { ...header };
          if (how === 0) entry.dtype = dtype;
          else if (how === 1) entry.shape = shape;
          else if (how === 2) entry.data_offsets = [entry.data_offsets[0], entry.data_offsets[0] + (n % 64)];
          if (how === 3) delete h[name];
          else if (how === 4) {
            delete h[name];
            h[`${name}x`] = entry;
          } else h[name] = entry;
          const run = load(join(h, data));
          if (run) consistent(run);
        },
      ),
      runs(500),
    );
  });

  it("data bytes flipped: weights, optimizer state, carried state, history ids (500 cases)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: BASES.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 1, max: 4 }),
        (base, at, bit, count) => {
          const bytes = BASES[base].slice();
          const { header } = split(bytes);
          const start = bytes.length - split(bytes).data.length;
          for (let c = 0; c < count; c++) {
            const i = start + ((at + c * 7919) % (bytes.length - start));
            bytes[i] ^= 1 << ((bit + c) % 8);
            // the high byte of a float's exponent too, so that NaN and Inf appear often
            if (c === 0) bytes[i | 3] |= 0x7f;
          }
          expect(header).toBeTruthy();
          const run = load(bytes);
          if (run) consistent(run);
        },
      ),
      runs(500),
    );
  });

  afterAll(() => {
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `checkpoint fuzz: ${stats.loads} loads (${stats.refused} refused, ${stats.loaded} loaded: ${stats.stepped} stepped, ${stats.nonFinite} stopped at a non-finite step with the update undone) in ${s} s`,
    );
  });
});
