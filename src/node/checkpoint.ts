// Checkpoint files: a training run's Snapshot as a safetensors file, written atomically, and
// never with a NaN or an infinity in it.

import { CheckpointError } from "../errors.js";
import { checkSnapshotFinite, type Snapshot } from "../train/run.js";
import { InputError, readBytes, writeFileAtomic } from "./files.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../io/safetensors.js";

/**
 * Writes a snapshot to `path` atomically (the old file stays whole until the new one is). A
 * snapshot holding a non-finite number is refused with a CheckpointError, and nothing is written.
 */
export function writeCheckpoint(path: string, snap: Snapshot): void {
  checkSnapshotFinite(snap);
  writeFileAtomic(path, encodeSafetensors(snap.tensors, snap.metadata));
}

/** Reads a checkpoint file; an InputError says what is wrong with it. */
export function readCheckpoint(path: string): Snapshot {
  const bytes = readBytes(path, "checkpoint");
  try {
    const { tensors, metadata } = decodeSafetensors(bytes);
    return { tensors: Object.fromEntries(tensors), metadata };
  } catch (e) {
    if (e instanceof SafetensorsError)
      throw new InputError(`checkpoint ${path} is corrupt or truncated (${e.message}); use another checkpoint, e.g. best.safetensors beside it`);
    throw e;
  }
}

/** Runs `use` on a checkpoint's snapshot, turning a CheckpointError or a bad config into an InputError naming the file. */
export function useCheckpoint<T>(path: string, snap: Snapshot, use: (s: Snapshot) => T): T {
  try {
    return use(snap);
  } catch (e) {
    if (e instanceof CheckpointError || e instanceof RangeError) {
      throw new InputError(`checkpoint ${path} cannot be used: ${e.message}`);
    }
    throw e;
  }
}
