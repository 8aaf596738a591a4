// The PyTorch parity runner: every fixture JSON in $RNNLAB_FIXTURES (default: test/fixtures/pytorch,
// a copy of the shared reference numbers) and in test/fixtures/extra (rnnlab's own, made by
// tools/make_fixtures.py), in float64 to 1e-9 and float32 to 1e-4 relative (the fixtures' README).
// A fixture whose cell type is not built yet is listed by name as a todo ("not implemented") and
// counted in the summary line; it never passes silently.

import { afterAll, describe, it } from "vitest";
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
      for (const dtype of ["float64", "float32"] as const) {
        it(`${file} [${data.kind}] ${dtype}`, () => {
          const key = `${dir}/${file}`;
          try {
            runFixture(data, dtype);
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
  const passed = [...summary.passed.values()].filter((n) => n === 2).length;
  console.log(
    `PyTorch parity: ${passed} fixtures passed (float64 and float32), ${summary.failed.size} failed, ${ni.length} not implemented` +
      (ni.length ? `:\n  ${ni.join("\n  ")}` : ""),
  );
});
