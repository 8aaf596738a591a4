// The CommonJS build: `require("rnnlab")` and `require("rnnlab/node")` load dist/index.cjs and
// dist/node/index.cjs (shared code in chunks, so both see the same classes), typed by .d.cts
// files. The ES modules (dist/**/*.js, what `import` and the CLI load) are tsc's.
import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "node/index": "src/node/index.ts" },
  format: ["cjs"],
  outDir: "dist",
  outExtension: () => ({ js: ".cjs" }),
  dts: true,
  splitting: true,
  shims: true,
  clean: false,
  target: "node20",
  platform: "node",
  tsconfig: "tsconfig.build.json",
});
