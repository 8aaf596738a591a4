// Files: atomic writes that fail cleanly (a simulated full disk: the old file stays, no temporary
// file is left), output-path checks, stale temporary files and the run-folder lock.

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { describeFailure } from "../cli/boundary.js";
import {
  Appender,
  checkOutputFile,
  checkOutputFolder,
  InputError,
  lockFolder,
  removeStaleTemps,
  sameFile,
  writeFileAtomic,
  writeFilesAtomic,
  WriteError,
} from "./files.js";

// node:fs as it is, except that writeSync can be made to fail like a full disk
const fail = { writeSync: null as null | string };
vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  return {
    ...real,
    writeSync: (...args: Parameters<typeof real.writeSync>) => {
      if (fail.writeSync) throw Object.assign(new Error(`${fail.writeSync}: simulated`), { code: fail.writeSync, syscall: "write" });
      return (real.writeSync as (...a: unknown[]) => number)(...args);
    },
  };
});

const tmp = () => mkdtempSync(join(tmpdir(), "rnnlab-files-"));
afterEach(() => {
  fail.writeSync = null;
});

describe("writeFileAtomic", () => {
  it("a full disk (simulated ENOSPC): one WriteError naming the file; the old file stays whole, no temporary file is left", () => {
    const dir = tmp();
    const path = join(dir, "checkpoint.safetensors");
    writeFileSync(path, "the previous checkpoint");
    fail.writeSync = "ENOSPC";
    let err: unknown;
    try {
      writeFileAtomic(path, new Uint8Array(1000));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WriteError);
    expect((err as Error).message).toBe(`cannot write ${path}: no space left on the device; free some space or choose another place`);
    expect(readFileSync(path, "utf8")).toBe("the previous checkpoint");
    expect(readdirSync(dir)).toEqual(["checkpoint.safetensors"]);
    // and the CLI's boundary makes it one line with exit status 2
    expect(describeFailure(err)).toEqual({ line: `rnnlab: ${(err as Error).message}`, status: 2 });
  });

  it("an appender (metrics.jsonl) on a full disk: a WriteError naming the file", () => {
    const dir = tmp();
    const a = new Appender(join(dir, "metrics.jsonl"));
    a.write("{}\n");
    fail.writeSync = "EDQUOT";
    expect(() => a.write("{}\n")).toThrow(/cannot write .*metrics\.jsonl: the disk quota is used up/);
    a.close();
  });

  it("several files as one: a failure in the second leaves both as they were", () => {
    const dir = tmp();
    const a = join(dir, "s.svg");
    const b = join(dir, "s.png");
    writeFileSync(a, "old svg");
    let calls = 0;
    fail.writeSync = null;
    const spy = vi.spyOn(fs, "fsyncSync").mockImplementation(() => {
      if (++calls === 2) throw Object.assign(new Error("ENOSPC: simulated"), { code: "ENOSPC", syscall: "fsync" });
    });
    try {
      expect(() =>
        writeFilesAtomic([
          [a, "new svg"],
          [b, new Uint8Array(10)],
        ]),
      ).toThrow(/cannot write .*s\.png: no space left on the device/);
    } finally {
      spy.mockRestore();
    }
    expect(readFileSync(a, "utf8")).toBe("old svg");
    expect(readdirSync(dir)).toEqual(["s.svg"]);
    writeFilesAtomic([
      [a, "new svg"],
      [b, "png"],
    ]);
    expect(readFileSync(a, "utf8")).toBe("new svg");
    expect(readdirSync(dir).sort()).toEqual(["s.png", "s.svg"]);
  });

  it("writes and replaces whole files", () => {
    const dir = tmp();
    const path = join(dir, "a.txt");
    writeFileAtomic(path, "one");
    writeFileAtomic(path, "two");
    expect(readFileSync(path, "utf8")).toBe("two");
    expect(readdirSync(dir)).toEqual(["a.txt"]);
  });
});

describe("output paths, checked before work", () => {
  it("refuses a missing folder, a folder, a file as folder, and any input (also through a symbolic link or a hard link)", () => {
    const dir = tmp();
    const input = join(dir, "in.safetensors");
    writeFileSync(input, "x");
    symlinkSync(input, join(dir, "link.safetensors"));
    fs.linkSync(input, join(dir, "hard.safetensors"));
    expect(() => checkOutputFile(join(dir, "no", "out.html"), { flag: "--out" })).toThrow(/folder .*no does not exist/);
    expect(() => checkOutputFile(dir, { flag: "--out" })).toThrow(/is a folder/);
    expect(() => checkOutputFile(join(input, "x.html"), { flag: "--out" })).toThrow(/is not a folder/);
    for (const out of [input, join(dir, "link.safetensors"), join(dir, "hard.safetensors"), join(dir, ".", "in.safetensors")]) {
      expect(() => checkOutputFile(out, { flag: "--out", inputs: [input] }), out).toThrow(/is the input file .* itself/);
    }
    expect(() => checkOutputFile(join(dir, "new.html"), { flag: "--out", inputs: [input] })).not.toThrow();
    expect(sameFile(join(dir, "hard.safetensors"), input)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["hard.safetensors", "in.safetensors", "link.safetensors"]); // the probe left nothing
  });

  it("a folder to be: its nearest existing ancestor must be a folder", () => {
    const dir = tmp();
    writeFileSync(join(dir, "file"), "x");
    expect(() => checkOutputFolder(join(dir, "a", "b", "c"), { flag: "--out" })).not.toThrow();
    expect(() => checkOutputFolder(join(dir, "file"), { flag: "--out" })).toThrow(/is a file; give a folder/);
    expect(() => checkOutputFolder(join(dir, "file", "run"), { flag: "--out" })).toThrow(/is a file, not a folder/);
  });
});

describe("run folders", () => {
  it("removes temporary files of processes that are gone, keeps the others", () => {
    const dir = tmp();
    writeFileSync(join(dir, ".checkpoint.safetensors.tmp-999999"), "half");
    writeFileSync(join(dir, `.metrics.jsonl.tmp-${process.ppid}`), "a live process's"); // the test runner's parent is alive
    writeFileSync(join(dir, "checkpoint.safetensors"), "whole");
    expect(removeStaleTemps(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([`.metrics.jsonl.tmp-${process.ppid}`, "checkpoint.safetensors"]);
  });

  it("a lock: taken once, taken over from a process that is gone, released", async () => {
    const dir = tmp();
    writeFileSync(join(dir, ".lock"), "999999\n");
    const release = lockFolder(dir);
    expect(readFileSync(join(dir, ".lock"), "utf8").trim()).toBe(String(process.pid));
    release();
    expect(readdirSync(dir)).toEqual([]);
    // a live rnnlab process holds it: refused; the process gone, it is taken over
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)", "rnnlab"], { stdio: "ignore" });
    writeFileSync(join(dir, ".lock"), `${holder.pid}\n`);
    expect(() => lockFolder(dir)).toThrow(new RegExp(`in use by another rnnlab process \\(pid ${holder.pid}\\)`));
    holder.kill("SIGKILL");
    await new Promise((resolve) => holder.on("exit", resolve));
    lockFolder(dir)();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("InputError is the class the boundary reports with status 2", () => {
    expect(describeFailure(new InputError("x"))).toEqual({ line: "rnnlab: x", status: 2 });
  });
});
