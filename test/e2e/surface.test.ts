// `rnnlab surface` end to end: the single-neuron figure (Pascanu et al. 2013, fig. 6) as SVG
// and PNG, a trained model's loss slice with its trajectory, and one-line errors.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.js";
import { isOneLineError, rnnlab, scratch } from "../helpers/cli.js";

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The attributes of each line mark's path: one per drawn piece of a path. */
function linePaths(svg: string): string[] {
  return [...svg.matchAll(/<g class="mark-line[^>]*><path d="[^"]+"([^>]*)\/>/g)].map((m) => m[1]);
}

describe("rnnlab surface (single neuron)", () => {
  it("draws the error surface with a plain descent thrown off the wall and a clipped one that is not", () => {
    const dir = scratch();
    const t0 = performance.now();
    const r = rnnlab(dir, "surface");
    const seconds = (performance.now() - t0) / 1000;
    expect(r.status, r.stderr).toBe(0);
    expect(seconds).toBeLessThan(30);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.slice(-2)).toEqual(["surface.svg", "surface.png"]);
    // both descents reach the wall at w ≈ 5, b ≈ -2.6, where ‖∇E‖ is huge: the plain one's next
    // step is hundreds long, the clipped one's lr·clip = 0.5·0.2 = 0.1
    const re = (what: string) =>
      new RegExp(
        `${what}: steepest after (\\d+) steps at \\(([\\d.-]+), ([\\d.-]+)\\): ‖∇E‖ = ([\\d.e+]+), next step ([\\d.e+-]+) long; longest step ([\\d.e+-]+)`,
      );
    const plain = re("plain").exec(r.stdout)!;
    const clipped = re("clipped at 0\\.2").exec(r.stdout)!;
    for (const m of [plain, clipped]) {
      expect(Math.abs(Number(m[2]) - 5)).toBeLessThan(0.1);
      expect(Math.abs(Number(m[3]) + 2.6)).toBeLessThan(0.05);
      expect(Number(m[4])).toBeGreaterThan(100);
    }
    expect(plain[1]).toBe(clipped[1]); // the same point: the two descents agree until the wall
    expect(Number(plain[5])).toBeGreaterThan(100);
    expect(Number(plain[6])).toBe(Number(plain[5]));
    expect(Number(clipped[5])).toBeCloseTo(0.1, 9);
    expect(Number(clipped[6])).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(r.stdout).toMatch(/plain: .*leaves the window at step \d+/);
    expect(r.stdout).not.toMatch(/clipped at 0\.2: .*leaves the window/);

    const svg = readFileSync(join(dir, "surface.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    const paths = linePaths(svg);
    expect(paths).toHaveLength(2); // one per descent
    expect(paths.filter((a) => /stroke-dasharray="7,4"/.test(a))).toHaveLength(1); // clipped: dashed
    expect(paths.filter((a) => /stroke-dasharray="1,0"/.test(a))).toHaveLength(1); // plain: solid
    expect(svg).toMatch(/→ \([\d.]+, [\d.]+\) at step \d+/); // where the plain one went
    expect(svg).toContain("Error surface of a single recurrent neuron");
    const png = readFileSync(join(dir, "surface.png"));
    expect([...png.subarray(0, 8)]).toEqual(PNG);
  });

  it("takes several starts, ranges (negative ones too) and an output path", () => {
    const dir = scratch();
    mkdirSync(join(dir, "fig"));
    const r = rnnlab(
      dir,
      "surface",
      "--start",
      "5,-4",
      "--start=6.5,-4.5",
      "--iters",
      "30",
      "--grid",
      "40",
      "--w",
      "3,9",
      "--b",
      "-6,0",
      "--lr",
      "1",
      "--clip",
      "1",
      "--out",
      "fig/x.svg",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split("\n").slice(-2)).toEqual(["fig/x.svg", "fig/x.png"]);
    expect(r.stdout.match(/^start /gm)).toHaveLength(4);
    const svg = readFileSync(join(dir, "fig", "x.svg"), "utf8");
    expect(linePaths(svg).length).toBeGreaterThanOrEqual(4);
    expect(svg).toContain("from (6.5, -4.5)");
  });

  it("answers bad options with one line and exit status 2, writing nothing", () => {
    const dir = scratch();
    const bad: [string[], RegExp][] = [
      [["--grid", "1"], /--grid/],
      [["--grid", "5000"], /--grid 5000 is too fine/],
      [["--w", "8,4"], /--w .*lo < hi/],
      [["--b", "-1"], /--b .*lo,hi/],
      [["--start", "5"], /--start .*w,b/],
      [["--lr", "0"], /--lr/],
      [["--mode", "whh"], /--mode needs --checkpoint/],
      [["--out", "nowhere/x"], /folder nowhere does not exist/],
      [["--checkpoint", "missing.safetensors"], /missing\.safetensors does not exist/],
    ];
    for (const [args, message] of bad) {
      const r = rnnlab(dir, "surface", ...args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("rnnlab surface --checkpoint", () => {
  let dir: string;
  const LECTURE = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John.\n";
  beforeAll(() => {
    dir = scratch();
    writeFileSync(join(dir, "jane.txt"), LECTURE.repeat(30));
    const r = rnnlab(
      dir,
      "train",
      "jane.txt",
      "--cell",
      "rnn",
      "--hidden",
      "8",
      "--embed",
      "4",
      "--batch",
      "4",
      "--seq",
      "8",
      "--steps",
      "20",
      "--eval-every",
      "10",
      "--sample-length",
      "0",
      "--threads",
      "1",
      "--out",
      "run",
    );
    expect(r.status, r.stderr).toBe(0);
    // two trajectory snapshots, as rnnlab train --diagnose-every writes them: the model's tensors, metadata step
    const { tensors } = decodeSafetensors(readFileSync(join(dir, "run", "checkpoint.safetensors")));
    const model = [...tensors].filter(([k]) => !k.startsWith("optim.") && !k.startsWith("state."));
    mkdirSync(join(dir, "run", "trajectory"));
    for (const [step, scale] of [
      [10, 0.5],
      [20, 1],
    ] as const) {
      const t = Object.fromEntries(model.map(([k, v]) => [k, { shape: v.shape, data: (v.data as Float32Array).map((x) => x * scale) }]));
      writeFileSync(join(dir, "run", "trajectory", `step-${String(step).padStart(8, "0")}.safetensors`), encodeSafetensors(t, { step: String(step) }));
    }
  });

  it("draws the loss around the trained weights with the trajectory projected, random and whh modes", () => {
    for (const mode of ["random", "whh"]) {
      const r = rnnlab(
        dir,
        "surface",
        "--checkpoint",
        "run/checkpoint.safetensors",
        "--grid",
        "5",
        "--tokens",
        "200",
        "--mode",
        mode,
        "--out",
        `slice-${mode}`,
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/trajectory: 2 snapshots projected/);
      const center = Number(/loss at θ\* ([\d.]+) nats\/char/.exec(r.stdout)![1]);
      expect(center).toBeGreaterThan(0);
      expect(r.stdout).toMatch(/5×5 = 25 losses on 200 characters of jane\.txt, validation split/);
      const svg = readFileSync(join(dir, `slice-${mode}.svg`), "utf8");
      expect(svg).toContain("θ* (");
      expect(linePaths(svg).some((a) => a.includes('stroke="#ff2d2d"'))).toBe(true); // the trajectory
      expect([...readFileSync(join(dir, `slice-${mode}.png`)).subarray(0, 8)]).toEqual(PNG);
    }
    // --text: the loss on a text of the user's, its first --tokens characters
    const r = rnnlab(
      dir,
      "surface",
      "--checkpoint",
      "run/checkpoint.safetensors",
      "--grid",
      "3",
      "--tokens",
      "100",
      "--text",
      "jane.txt",
      "--out",
      "slice-text",
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/on 100 characters of jane\.txt/);
  });

  it("--mode pca needs a trajectory that spans a plane, and says so in one line", () => {
    // the two snapshots here are 0.5·θ* and θ* itself: their offsets from θ* lie on one line
    const r = rnnlab(dir, "surface", "--checkpoint", "run/checkpoint.safetensors", "--grid", "3", "--tokens", "100", "--mode", "pca", "--out", "slice-pca");
    expect(r.status).toBe(2);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/--mode pca needs 2 trajectory snapshots whose weights differ from the checkpoint's.*found 2 snapshots, 1 of them different/);
    expect(existsSync(join(dir, "slice-pca.svg"))).toBe(false);
  });

  it("refuses single-neuron options, and a trajectory of another model, with one line", () => {
    const a = rnnlab(dir, "surface", "--checkpoint", "run/checkpoint.safetensors", "--start", "5,-4");
    expect(a.status).toBe(2);
    expect(isOneLineError(a.stderr)).toBe(true);
    expect(a.stderr).toMatch(/--start is for the single-neuron surface/);

    const other = scratch();
    mkdirSync(join(other, "trajectory"));
    writeFileSync(join(other, "checkpoint.safetensors"), readFileSync(join(dir, "run", "checkpoint.safetensors")));
    writeFileSync(
      join(other, "trajectory", "step-00000005.safetensors"),
      encodeSafetensors({ "rnn.weight_hh_l0": { shape: [2, 2], data: new Float32Array(4) } }, { step: "5" }),
    );
    const b = rnnlab(other, "surface", "--checkpoint", "checkpoint.safetensors", "--text", join(dir, "jane.txt"), "--grid", "3");
    expect(b.status).toBe(2);
    expect(isOneLineError(b.stderr), b.stderr).toBe(true);
    expect(b.stderr).toMatch(/trajectory file .*step-00000005\.safetensors/);
    expect(existsSync(join(other, "surface.svg"))).toBe(false);
  });
});
