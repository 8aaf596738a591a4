// The package as a user gets it: `npm pack`, the tarball installed into an empty project (as
// `npm init -y` makes one: CommonJS by default), and there the README's examples run verbatim
// (examples/save-load.mjs with import, examples/require.cjs with require), examples/typed.ts
// passes strict `tsc` under module nodenext both as CommonJS (.ts) and as an ES module (.mts) and
// runs, a Vite page that imports only CharVocab stays under 20 kB, and a Vite page that trains a
// language model runs on the WebAssembly kernels in Chromium. Needs `npm run build` first (npm
// test runs it); the dependencies install from npm's cache or the registry.

import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium } from "playwright-core";
import { scratch } from "../helpers/cli.js";
import { readDocs } from "../helpers/docs.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const VITE = join(ROOT, "node_modules", "vite", "bin", "vite.js");
const CHROMIUM = process.env.RNNLAB_CHROMIUM ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && process.env.CI === "true") throw new Error(`no Chromium at ${CHROMIUM} (CI=true: the browser tests must run)`);

let dir: string;

function run(cmd: string, args: string[], cwd = dir): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", NODE_OPTIONS: "" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Total bytes of the JavaScript files under a folder. */
function jsBytes(folder: string): number {
  let n = 0;
  for (const f of readdirSync(folder, { recursive: true }) as string[]) if (f.endsWith(".js")) n += statSync(join(folder, f)).size;
  return n;
}

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist", "index.cjs")) || !existsSync(join(ROOT, "dist", "index.js")))
    throw new Error("the package is not built: run npm run build (npm test does) before this test");
  dir = scratch("rnnlab-package-");
  const packed = JSON.parse(execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" })) as {
    filename: string;
  }[];
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: "try-rnnlab", version: "1.0.0", private: true }, null, 2)}\n`); // as npm init -y: CommonJS
  const i = run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(dir, packed[0].filename)]);
  if (i.status !== 0) throw new Error(`npm install of the tarball failed: ${i.stderr}`);
  for (const f of ["save-load.mjs", "require.cjs", "typed.ts"]) copyFileSync(join(ROOT, "examples", f), join(dir, f));
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the packed package in a new project", () => {
  it("the docs show the three examples as they are (all but their first comment line)", () => {
    const readme = readDocs();
    for (const f of ["save-load.mjs", "require.cjs", "typed.ts"])
      expect(readme, f).toContain(
        readFileSync(join(ROOT, "examples", f), "utf8")
          .split("\n")
          .slice(1)
          .join("\n")
          .trim(),
      );
  });

  it("ships what the README promises and nothing of the repository's own", () => {
    const files = readdirSync(join(dir, "node_modules", "rnnlab"), { recursive: true }) as string[];
    for (const f of [
      "dist/index.js",
      "dist/index.cjs",
      "dist/index.d.ts",
      "dist/index.d.cts",
      "dist/node/index.cjs",
      "dist/cli/main.js",
      "data/tinyshakespeare.txt",
    ])
      expect(files, f).toContain(f);
    expect(files.filter((f) => f.startsWith("src/") || f.startsWith("test/") || f.endsWith(".test.js"))).toEqual([]);
  });

  it("runs the README's ES module example (import, rnnlab/node save and load)", () => {
    const r = run(process.execPath, ["save-load.mjs"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^the /);
    expect(existsSync(join(dir, "lm.safetensors"))).toBe(true);
    // the file is a checkpoint the installed command line samples from
    const s = run(process.execPath, [
      join(dir, "node_modules", "rnnlab", "dist", "cli", "main.js"),
      "sample",
      "--checkpoint",
      "lm.safetensors",
      "--length",
      "20",
    ]);
    expect(s.status, s.stderr).toBe(0);
  });

  it("runs the README's CommonJS example (require)", () => {
    const r = run(process.execPath, ["require.cjs"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^language-model: \d+ parameters, \d+ bytes/);
  });

  it("require and import see one library: a model from require('rnnlab') saves with require('rnnlab/node')", () => {
    writeFileSync(
      join(dir, "mixed.cjs"),
      'const { GRU } = require("rnnlab"); const { save, load } = require("rnnlab/node");\n' +
        'save("gru.safetensors", new GRU({ inputSize: 2, hiddenSize: 3 })); console.log(load("gru.safetensors").kind);\n',
    );
    const r = run(process.execPath, ["mixed.cjs"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("recurrent");
  });

  it("type-checks examples/typed.ts strictly under nodenext, as CommonJS and as an ES module, and runs it", () => {
    copyFileSync(join(dir, "typed.ts"), join(dir, "typed-esm.mts"));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", skipLibCheck: false, types: [] },
        files: ["typed.ts", "typed-esm.mts"],
      }),
    );
    const t = run(process.execPath, [TSC, "-p", "tsconfig.json"]);
    expect(t.status, t.stdout + t.stderr).toBe(0);
    for (const js of ["typed.js", "typed-esm.mjs"]) {
      const r = run(process.execPath, [js]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe("output [4,2,5], h_n [2,2,5], dx [4,2,3]");
    }
    expect(readFileSync(join(dir, "typed.js"), "utf8")).toMatch(/require\("rnnlab"\)/); // it did compile to CommonJS
  });

  it("a Vite page that imports only CharVocab bundles under 20 kB", () => {
    const page = join(dir, "vocab-page");
    mkdirSync(page);
    writeFileSync(join(page, "index.html"), '<!doctype html><script type="module" src="./main.js"></script>\n');
    writeFileSync(join(page, "main.js"), 'import { CharVocab } from "rnnlab";\ndocument.body.textContent = CharVocab.fromText("hello").tokens.join(",");\n');
    const b = run(process.execPath, [VITE, "build", "--logLevel", "warn"], page);
    expect(b.status, b.stderr).toBe(0);
    const bytes = jsBytes(join(page, "dist"));
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(20_000);
  });

  describe.skipIf(!HAVE_CHROMIUM)("in Chromium", () => {
    let server: Server;
    afterAll(() => server?.close());

    it("a Vite page trains a language model on the WebAssembly kernels, and loads a checkpoint of rnnlab train from bytes with one call", async () => {
      const page = join(dir, "train-page");
      mkdirSync(join(page, "public"), { recursive: true });
      writeFileSync(join(dir, "jane.txt"), "Jane walked into the room. John walked in too.\n".repeat(40));
      const cli = join(dir, "node_modules", "rnnlab", "dist", "cli", "main.js");
      const t = run(process.execPath, [
        cli,
        "train",
        "jane.txt",
        "--hidden",
        "16",
        "--embed",
        "8",
        "--batch",
        "2",
        "--seq",
        "16",
        "--steps",
        "3",
        "--sample-length",
        "0",
        "--threads",
        "1",
        "--out",
        "run",
      ]);
      expect(t.status, t.stderr).toBe(0);
      copyFileSync(join(dir, "run", "checkpoint.safetensors"), join(page, "public", "checkpoint.safetensors"));
      writeFileSync(join(page, "index.html"), '<!doctype html><script type="module" src="./main.js"></script>\n');
      writeFileSync(
        join(page, "main.js"),
        [
          'import { Adam, CharVocab, generate, LanguageModel, loadModel, Rng, StreamBatcher, Trainer } from "rnnlab";',
          'const text = "to be or not to be, that is the question. ".repeat(30);',
          "const vocab = CharVocab.fromText(text);",
          "const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 8, hiddenSize: 32, cell: 'lstm', seed: 1 });",
          "const trainer = new Trainer(lm, { optimizer: new Adam(lm.store, { lr: 1e-2 }), batch: 4, k1: 16 });",
          "const batches = new StreamBatcher(vocab.encode(text), 4, 16);",
          "const losses = [];",
          "for (let i = 0; i < 60; i++) { const b = batches.next(); if (b.first) trainer.tbptt.reset(); losses.push(trainer.step(b.inputs, b.targets, b.T).loss); }",
          'const saved = loadModel(new Uint8Array(await (await fetch("./checkpoint.safetensors")).arrayBuffer()));',
          "const sample = saved.vocab.decode(generate(saved.model, { prime: saved.vocab.encode('J'), length: 20, rng: new Rng(1) }));",
          "window.result = { kernels: lm.store.kernels.name, first: losses[0], last: losses.at(-1), loaded: saved.kind, hidden: saved.config.model.hiddenSize, sample };",
        ].join("\n"),
      );
      const b = run(process.execPath, [VITE, "build", "--logLevel", "warn"], page);
      expect(b.status, b.stderr).toBe(0);
      const root = join(page, "dist");
      console.log(`package: a page that trains a language model bundles to ${jsBytes(root).toLocaleString("en-US")} bytes of JavaScript (README quotes it)`);
      const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
      server = createServer((req, res) => {
        const file = join(root, (req.url ?? "/") === "/" ? "index.html" : (req.url ?? "").replace(/^\/+/, ""));
        if (!file.startsWith(root) || !existsSync(file)) return void res.writeHead(404).end();
        // shared WebAssembly memory needs a cross-origin isolated page
        res.writeHead(200, {
          "Content-Type": types[extname(file)] ?? "application/octet-stream",
          "Cross-Origin-Opener-Policy": "same-origin",
          "Cross-Origin-Embedder-Policy": "require-corp",
        });
        res.end(readFileSync(file));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
      try {
        const tab = await browser.newPage();
        const errors: string[] = [];
        tab.on("pageerror", (e) => errors.push(e.message));
        await tab.goto(url);
        await tab.waitForFunction(() => (window as unknown as { result?: unknown }).result, null, { timeout: 60_000 });
        const result = await tab.evaluate(
          () => (window as unknown as { result: { kernels: string; first: number; last: number; loaded: string; hidden: number; sample: string } }).result,
        );
        expect(errors).toEqual([]);
        expect(result).toMatchObject({ loaded: "language-model", hidden: 16 });
        expect(result.sample).toHaveLength(20);
        expect(result.kernels).toBe("wasm-simd-fma"); // Chromium accepts relaxed SIMD by default
        expect(result.last).toBeLessThan(result.first * 0.8);
      } finally {
        await browser.close();
      }
    }, 120_000);
  });
});
