// The PyTorch parity runner: every fixture JSON in $RNNLAB_FIXTURES (default: test/fixtures/pytorch,
// a copy of the shared reference numbers) and in test/fixtures/extra (rnnlab's own, made by
// tools/make_fixtures.py), in float64 to 1e-9 and float32 to 1e-4 relative (the fixtures' README).
// float32 runs on the WebAssembly SIMD kernels (where the runtime has them: the fused
// multiply-add build and the exact one) and on the plain TypeScript kernels; float64 always runs
// on the TypeScript path.
// A fixture whose cell type is not built yet is listed by name as a todo ("not implemented") and
// counted in the summary line; it never passes silently.

const runs: [DType, KernelChoice][] = [
  ["float64", "js"],
  ...(wasmKernels("fma") ? [["float32", "wasm"] as [DType, KernelChoice]] : []),
  ...(wasmKernels("exact") ? [["float32", "wasm-exact"] as [DType, KernelChoice]] : []),
  ["float32", "js"],
];

import { afterAll, describe, it } from "vitest";
import { useKernels, wasmKernels, type DType, type KernelChoice } from "../../src/index.js";
import { EXTRA_FIXTURE_DIR, fixtureDir, loadFixtures } from "../helpers/fixtures.js";
import { notImplemented, runFixture } from "./pytorch-parity.js";

const summary = { passed: new Map<string, number>(), failed: new Set<string>(), notImplemented: [] as string[] };

for (const dir of [fixtureDir(), EXTRA_FIXTURE_DIR]) {
  const fixtures = loadFixtures(dir);
  describe(`PyTorch parity: ${dir}`, () => {
    it("has fixtures", () => {
      if (fixtures.length === 0) throw new Error(`no *.json fixtures in ${dir}`);
    });
    for (const { file, data } of fixtures) {
      const why = notImplemented(data);
      if (why) {
        summary.notImplemented.push(`${file} (${why})`);
        it.todo(`${file}: not implemented (${why})`);
        continue;
      }
      for (const [dtype, choice] of runs) {
        it(`${file} [${data.kind}] ${dtype} ${choice}`, () => {
          const key = `${dir}/${file}`;
          try {
            // the choice also decides where float32 buffers live (the wasm kernels read their own memory)
            runFixture(data, dtype, useKernels(choice));
            summary.passed.set(key, (summary.passed.get(key) ?? 0) + 1);
          } catch (e) {
            summary.failed.add(key);
            throw e;
          }
        });
      }
    }
  });
}

afterAll(() => {
  const ni = summary.notImplemented;
  const passed = [...summary.passed.values()].filter((n) => n === runs.length).length;
  console.log(
    `PyTorch parity: ${passed} fixtures passed (${runs.map(([d, k]) => `${d} ${k}`).join(", ")}), ${summary.failed.size} failed, ${ni.length} not implemented` +
      (ni.length ? `:\n  ${ni.join("\n  ")}` : ""),
  );
});
