// Files on disk (Node only; nothing outside src/io and src/cli touches fs): reading, atomic
// writing, and the checks every command makes on its output paths before it starts working.
// Atomic: write a temporary file beside the target, fsync it, rename it over the target, fsync
// the folder. A process killed at any moment leaves either the old file or the new one, whole;
// a failure (full disk, read-only file system) removes the temporary file and leaves the old one.

import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  type Stats,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError } from "../errors.js";

export { InputError };

/** Why a system call failed, in words, from its error code. */
const WHY: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or folder",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder",
  EEXIST: "it already exists",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  EIO: "an input/output error of the device",
  EFBIG: "the file is too large for the file system",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many symbolic links",
  EBUSY: "the device or file is busy",
  ETXTBSY: "the file is busy",
  EXDEV: "it is on another device",
  EINVAL: "the file system does not allow it",
};

/** The error code of a failed system call (ENOSPC, EROFS, ...), or undefined. */
export function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** A failed system call in words: "no space left on the device", or the code itself. */
export function whyOf(e: unknown): string {
  const code = errnoOf(e);
  return code ? (WHY[code] ?? code) : ((e as Error)?.message ?? String(e));
}

/** A file that could not be written; the file that was there before is unchanged. */
export class WriteError extends InputError {
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "WriteError";
  }
}

function writeError(path: string, e: unknown, what = "write"): WriteError {
  const code = errnoOf(e);
  const fix = code === "ENOSPC" || code === "EDQUOT" ? "free some space or choose another place" : "choose another place";
  return new WriteError(path, code, `cannot ${what} ${path}: ${whyOf(e)}; ${fix}`);
}

/** The temporary file writeFileAtomic writes beside `path`. */
function tempOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
}
const TEMP = /^\..+\.tmp-(\d+)$/;

/**
 * Writes `data` to `path` atomically (temporary file, fsync, rename, fsync of the folder). A
 * failure is a WriteError naming the path; the temporary file is removed and the old file stays.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  writeFilesAtomic([[path, data]]);
}

/**
 * Writes several files as one: every temporary file is written and synced first, and only when
 * all are whole are they renamed over their targets (then their folders synced). A failure
 * leaves every target as it was and no temporary file behind.
 */
export function writeFilesAtomic(files: readonly (readonly [string, Uint8Array | string])[]): void {
  const written: string[] = [];
  const discard = () => {
    for (const tmp of written) rmSync(tmp, { force: true });
  };
  for (const [path, data] of files) {
    const tmp = tempOf(path);
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    let fd: number;
    try {
      fd = openSync(tmp, "w", 0o644);
    } catch (e) {
      discard();
      throw writeError(path, e);
    }
    written.push(tmp);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } catch (e) {
      discard();
      throw writeError(path, e);
    } finally {
      closeSync(fd);
    }
  }
  for (const [path] of files) {
    try {
      renameSync(tempOf(path), path);
    } catch (e) {
      discard();
      throw writeError(path, e);
    }
  }
  for (const dir of new Set(files.map(([path]) => dirname(path)))) {
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
}

/** Creates a folder (and its parents); a failure is a WriteError naming it. */
export function makeFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw writeError(dir, e, "create the folder");
  }
}

/** Appends lines to a file opened once (metrics.jsonl); a failure is a WriteError naming it. */
export class Appender {
  private fd: number | null;
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, "a");
    } catch (e) {
      throw writeError(path, e);
    }
  }
  write(s: string): void {
    if (this.fd === null) throw new Error(`Appender: ${this.path} is closed`);
    try {
      const b = Buffer.from(s);
      let off = 0;
      while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    } catch (e) {
      throw writeError(this.path, e);
    }
  }
  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // nothing was buffered: every write went straight to the file
    }
    this.fd = null;
  }
}

/** The bytes of a file, or an InputError saying what is wrong with the path. */
export function readBytes(path: string, what = "file"): Uint8Array {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = errnoOf(e);
    throw new InputError(code === "ENOENT" || code === "ENOTDIR" ? `${what} ${path} does not exist` : `cannot read ${what} ${path}: ${whyOf(e)}`);
  }
  if (st.isDirectory()) throw new InputError(`${what} ${path} is a folder, not a file`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${whyOf(e)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// output paths, checked before a command starts working

/** Whether two paths name the same file (the same inode, or the same real path). */
export function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  } catch {
    // one of them does not exist (yet): compare where they would be
  }
  return realTarget(a) === realTarget(b);
}

/** The real path a path names, for a file that may not exist yet (its folder resolved). */
function realTarget(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    try {
      return join(realpathSync(dirname(p)), basename(p));
    } catch {
      return resolve(p);
    }
  }
}

/** Whether `path` is a checkpoint written by rnnlab train (its header's metadata has a "run"): reads the header only. */
export function isTrainingCheckpoint(path: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(path, "r");
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) !== 8) return false;
    const n = Number(head.readBigUInt64LE(0));
    if (n < 2 || n > 100 * 1024 * 1024) return false;
    const json = Buffer.alloc(n);
    if (readSync(fd, json, 0, n, 8) !== n) return false;
    const meta = (JSON.parse(json.toString("utf8")) as { __metadata__?: Record<string, unknown> }).__metadata__;
    return !!meta && meta.format === "rnnlab-checkpoint/1" && typeof meta.run === "string";
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Tries to create and remove a file in `dir`: a folder the user may not write to is found before any work. */
function probeWritable(dir: string, flag: string, shown: string): void {
  const probe = join(dir, `.rnnlab-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, "wx"));
  } catch (e) {
    if (errnoOf(e) === "EEXIST") return;
    throw new InputError(`${flag} ${shown}: cannot write in ${dir}: ${whyOf(e)}; choose another place`);
  } finally {
    try {
      unlinkSync(probe);
    } catch {
      // never created
    }
  }
}

/** Options of the output checks. */
export interface OutputCheck {
  /** The option that named the path, for messages, e.g. "--out". */
  flag: string;
  /** Files the command reads: the output must be none of them. */
  inputs?: readonly (string | undefined | null)[];
}

/**
 * Checks, before any work, that `path` can be written as a file: its folder exists and takes
 * new files, it is not a folder, and it is none of the command's inputs. Throws an InputError
 * naming the option and the fix.
 */
export function checkOutputFile(path: string, o: OutputCheck): void {
  if (path === "" || /[/\\]$/.test(path)) throw new InputError(`${o.flag} ${JSON.stringify(path)} names no file; give a file name`);
  const dir = dirname(path);
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new InputError(
      errnoOf(e) === "ENOENT" ? `${o.flag} ${path}: folder ${dir} does not exist; create it or choose another path` : `${o.flag} ${path}: ${dir}: ${whyOf(e)}`,
    );
  }
  if (!st.isDirectory()) throw new InputError(`${o.flag} ${path}: ${dir} is not a folder`);
  let target: Stats | null;
  try {
    target = statSync(path);
  } catch {
    target = null;
  }
  if (target?.isDirectory()) throw new InputError(`${o.flag} ${path} is a folder; give a file name, e.g. ${join(path, "out")}`);
  for (const input of o.inputs ?? []) {
    if (input && existsSync(input) && sameFile(path, input)) throw new InputError(`${o.flag} ${path} is the input file ${input} itself; write to another file`);
  }
  if (target && !target.isFile()) throw new InputError(`${o.flag} ${path} is not a regular file (a device or a pipe); give a file name`);
  if (target && isTrainingCheckpoint(path)) {
    throw new InputError(
      `${o.flag} ${path} is a training checkpoint of rnnlab train (weights and optimizer state): writing over it would lose the run; choose another file`,
    );
  }
  probeWritable(dir, o.flag, path);
}

/**
 * Checks, before any work, that `dir` is (or can become) a folder that takes new files: an
 * existing folder, or a path whose nearest existing ancestor is one.
 */
export function checkOutputFolder(dir: string, o: OutputCheck): void {
  let st: Stats | null;
  try {
    st = statSync(dir);
  } catch {
    st = null;
  }
  if (st && !st.isDirectory()) throw new InputError(`${o.flag} ${dir} is a file; give a folder`);
  let existing = dir;
  while (!st) {
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
    try {
      st = statSync(existing);
    } catch {
      st = null;
    }
  }
  if (st && !st.isDirectory()) throw new InputError(`${o.flag} ${dir}: ${existing} is a file, not a folder; choose another place`);
  probeWritable(existing, o.flag, dir);
}

// ---------------------------------------------------------------------------------------------
// run folders

/** Whether a process with this id is alive (true when it cannot be told). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoOf(e) !== "ESRCH";
  }
}

/**
 * Removes temporary files (`.NAME.tmp-PID`) that killed processes left in `dir`: a write that
 * never finished. Returns how many were removed.
 */
export function removeStaleTemps(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || name.startsWith(".rnnlab-probe-")) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && alive(pid)) continue;
    try {
      rmSync(join(dir, name), { force: true });
      n++;
    } catch {
      // not ours to remove; it does no harm
    }
  }
  return n;
}

/** Whether process `pid` runs rnnlab (where /proc tells; otherwise assumed). */
function runsRnnlab(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /rnnlab|cli[/\\]main\.[jt]s/.test(cmd);
  } catch {
    return alive(pid);
  }
}

/**
 * Takes `dir/.lock` for this process, so two runs never write one folder at once; a lock left by
 * a process that is gone is taken over. Returns the function that releases it.
 */
export function lockFolder(dir: string): () => void {
  const path = join(dir, ".lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off("exit", release);
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      process.on("exit", release);
      return release;
    } catch (e) {
      if (errnoOf(e) !== "EEXIST") throw writeError(path, e);
      // only a small regular file is a lock rnnlab wrote (a folder or a FIFO there is someone else's)
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st && (!st.isFile() || st.size > 64)) throw new InputError(`${path} is not a lock file of rnnlab's; remove it, or choose another --out`);
      let pid = NaN;
      try {
        pid = Number(readFileSync(path, "utf8").trim());
      } catch {
        // unreadable: treat as stale
      }
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) && runsRnnlab(pid)) {
        throw new InputError(`${dir} is in use by another rnnlab process (pid ${pid}); wait for it to end, or choose another --out`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new InputError(`cannot lock ${dir}: another process keeps taking ${path}; choose another --out`);
}
