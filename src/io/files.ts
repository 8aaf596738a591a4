// File reading and atomic writing (Node only; nothing outside src/io and src/cli touches fs).
// Atomic: write a temporary file beside the target, fsync it, rename it over the target, fsync
// the folder. A process killed at any moment leaves either the old file or the new one, whole.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** A problem with a user's file, reported as one line (the CLI exits with status 2). */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** Writes `data` to `path` atomically (temporary file, fsync, rename, fsync of the folder). */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const fd = openSync(tmp, "w", 0o644);
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some file systems cannot fsync a folder; the rename itself is still atomic
  }
}

/** The bytes of a file, or an InputError saying what is wrong with the path. */
export function readBytes(path: string, what = "file"): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`${what} ${path} does not exist`);
  }
  if (st.isDirectory()) throw new InputError(`${what} ${path} is a folder, not a file`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}
