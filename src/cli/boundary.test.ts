// The CLI's error boundary: what each kind of failure becomes (line, exit status).

import { describe, expect, it } from "vitest";
import { CheckpointError, InputError, ResourceError } from "../errors.js";
import { SafetensorsError } from "../io/safetensors.js";
import { describeFailure } from "./boundary.js";
import { StdoutClosed } from "./output.js";

const errno = (code: string, syscall: string, path?: string) => Object.assign(new Error(`${code}: x`), { code, syscall, ...(path ? { path } : {}) });

describe("describeFailure", () => {
  it("a user's mistake or a system failure: one line, status 2", () => {
    for (const e of [new InputError("a\nb"), new CheckpointError("c"), new ResourceError("r"), new SafetensorsError("s")]) {
      const d = describeFailure(e);
      expect(d.status).toBe(2);
      expect(d.line).toMatch(/^rnnlab: [^\n]+$/);
    }
    expect(describeFailure(new InputError("a\n  b")).line).toBe("rnnlab: a b");
    expect(describeFailure(errno("ENOSPC", "write", "/data/run/metrics.jsonl"))).toEqual({
      line: "rnnlab: cannot write /data/run/metrics.jsonl: no space left on the device; check the path and the disk, or choose another place",
      status: 2,
    });
    expect(describeFailure(new RangeError("Array buffer allocation failed")).status).toBe(2);
    expect(describeFailure(new RangeError("Array buffer allocation failed")).line).toMatch(/^rnnlab: out of memory/);
  });

  it("a reader that went away (closed pipe): no line, status 0", () => {
    expect(describeFailure(new StdoutClosed())).toEqual({ line: null, status: 0 });
    expect(describeFailure(errno("EPIPE", "write"))).toEqual({ line: null, status: 0 });
  });

  it("anything else is a bug: one line asking for a report, status 1, no stack trace", () => {
    const d = describeFailure(new TypeError("Cannot read properties of undefined (reading 'valFraction')"));
    expect(d.status).toBe(1);
    expect(d.line).toBe(
      "rnnlab: internal error: TypeError: Cannot read properties of undefined (reading 'valFraction'); this is a bug in rnnlab: please report it with the command you ran (RNNLAB_DEBUG=1 shows where it happened)",
    );
    expect(describeFailure(new RangeError("Invalid atomic access index")).status).toBe(1);
  });
});
