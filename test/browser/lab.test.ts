// The browser lab in real Chromium: `rnnlab lab` (the built CLI) serves dist/web, Playwright
// drives Debian's chromium (no browser download: playwright-core with executablePath).
// Needs `npm run build` first (npm test runs it) and /usr/bin/chromium (apt-get install -y chromium),
// or RNNLAB_CHROMIUM=/path/to/chrome.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const CHROMIUM = process.env.RNNLAB_CHROMIUM ?? "/usr/bin/chromium";
// Without a Chromium the browser tests are not run, and say so by name; in CI (CI=true, which
// .ci/run sets after installing Chromium) a missing browser is an error.
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const NO_BROWSER = `no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set RNNLAB_CHROMIUM=/path/to/chrome`;
if (!HAVE_CHROMIUM && process.env.CI === "true") throw new Error(`${NO_BROWSER} (CI=true: the browser tests must run)`);
if (!HAVE_CHROMIUM) console.log(`browser tests (test/browser/lab.test.ts) not run: ${NO_BROWSER}; then npm test runs them`);

interface LabHandle {
  step: number;
  running: boolean;
  skipped: number;
  markers: { step: number; label: string }[];
  rows(): { step: number; loss: number; gradNorm: number; clipped: boolean; skipped: boolean }[];
  builds(): Record<string, number>;
  timing: { firstChart: number };
  surfaceStart: [number, number] | null;
  losses(): number[];
  draws(): Record<string, number>;
}
declare global {
  interface Window {
    rnnlab: LabHandle;
  }
}

let server: ChildProcess;
let url = "";
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  if (!existsSync(CLI) || !existsSync(new URL("../../dist/web/index.html", import.meta.url))) {
    throw new Error("the lab is not built: run npm run build (npm test does) before the browser tests");
  }
  server = spawn(process.execPath, [CLI, "lab"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`rnnlab lab printed no address: ${out}`)), 10_000);
    server.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    server.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    server.on("exit", (code) => reject(new Error(`rnnlab lab exited with ${code}: ${out}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
}, 30_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGINT");
    await exited;
  }
});

/** Whether each view's plot holds an <svg> with marks or a <canvas> with more than one colour. */
async function drawnViews(): Promise<Record<string, boolean>> {
  return page.evaluate(() => {
    const out: Record<string, boolean> = {};
    for (const id of ["view-loss", "view-grad", "view-heat", "view-eig", "view-surface"]) {
      const el = document.querySelector(`#${id} .plot`);
      const svg = el?.querySelector("svg");
      const canvas = el?.querySelector("canvas");
      if (svg) out[id] = svg.querySelectorAll("path, line, rect, circle").length > 5;
      else if (canvas && canvas.width > 0) {
        const copy = document.createElement("canvas");
        copy.width = canvas.width;
        copy.height = canvas.height;
        const ctx = copy.getContext("2d", { willReadFrequently: true })!;
        ctx.drawImage(canvas, 0, 0);
        const px = ctx.getImageData(0, 0, copy.width, copy.height).data;
        const colours = new Set<number>();
        for (let i = 0; i < px.length && colours.size < 10; i += 4 * 97) colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
        out[id] = colours.size >= 10;
      } else out[id] = false;
    }
    out["view-sample"] = (document.querySelector("#sample")?.textContent ?? "").trim().length > 50;
    return out;
  });
}

describe.skipIf(!HAVE_CHROMIUM)("rnnlab lab in Chromium", () => {
  it("serves the page cross-origin isolated, and it loads with no console errors", async () => {
    const res = await page.goto(url);
    expect(res?.status()).toBe(200);
    const h = res!.headers();
    expect(h["cross-origin-opener-policy"]).toBe("same-origin");
    expect(h["cross-origin-embedder-policy"]).toBe("require-corp");
    await page.waitForFunction(() => window.rnnlab?.draws().surface > 0, null, { timeout: 15_000 });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    // the first screen says what to do, not four blank boxes
    expect(await page.textContent("#view-loss .placeholder")).toMatch(/Press Start/);
    await expect.poll(() => page.textContent("#kernels")).toContain("WebAssembly SIMD");
    expect(problems).toEqual([]);
  });

  it("trains: the loss falls and every view draws", async () => {
    await page.fill("#hidden", "64");
    await page.fill("#seq", "32");
    await page.fill("#batch", "16");
    await page.fill("#lr", "0.005");
    await page.click("#start");
    await page.waitForFunction(() => window.rnnlab.step >= 110, null, { timeout: 30_000 });
    // data parallel over the batch rows on Web Workers sharing the WebAssembly memory, as many as the cores (up to 4)
    const cores = await page.evaluate(() => Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)));
    expect(await page.textContent("#info")).toMatch(new RegExp(`; ${cores} threads?$`));
    await expect.poll(async () => Object.values(await drawnViews()).every(Boolean), { timeout: 10_000, interval: 250 }).toBe(true);
    const losses = await page.evaluate(() => window.rnnlab.losses());
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    const first = mean(losses.slice(0, 10));
    const last = mean(losses.slice(-10));
    expect(last).toBeLessThan(first - 0.8); // from ln 65 ≈ 4.2 nats to about 2.5 in 100 steps
    expect(await page.textContent("#loss-readout")).toMatch(/bits\/char .* validation/);
    expect(problems).toEqual([]);
  });

  it("pausing stops the step counter, resuming starts it again", async () => {
    await page.click("#pause");
    await expect.poll(() => page.textContent("#run-state")).toBe("paused");
    const at = await page.evaluate(() => window.rnnlab.step);
    await page.waitForTimeout(1200);
    expect(await page.textContent("#step")).toBe(at.toLocaleString("en-US"));
    expect(await page.evaluate(() => window.rnnlab.step)).toBe(at);
    await page.click("#pause"); // now "Resume"
    await page.waitForFunction((s) => window.rnnlab.step > s + 5, at, { timeout: 10_000 });
    await page.click("#pause");
    await expect.poll(() => page.textContent("#run-state")).toBe("paused");
  });

  it("hovering a training step reads out its numbers, sample, heat-map column and spectra", async () => {
    const target = page.locator("#view-loss .plot canvas, #view-loss .plot svg").first();
    await target.scrollIntoViewIfNeeded();
    const box = (await target.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.5);
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5, { steps: 3 });
    await expect
      .poll(() => page.textContent("#step-readout"), { timeout: 5_000 })
      .toMatch(/^step \d+: loss [\d.]+, gradient norm .* heat-map column at step \d+/);
    await page.mouse.move(0, 0);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it("explains which characters the next one rests on, on the model being trained", async () => {
    const text = await page.inputValue("#saliency-text");
    expect(text).toContain("Jane said hi to");
    await page.click("#saliency-go");
    await page.waitForFunction(() => document.querySelectorAll("#saliency-out .sal-text").length === 2, null, { timeout: 15_000 });
    const shaded = await page.evaluate(() => Array.from(document.querySelectorAll("#saliency-out .sal-text"), (r) => r.children.length));
    expect(shaded).toEqual([text.length, text.length]); // one shaded span per character, in both rows
    expect(await page.textContent("#saliency-out .sal-next")).toMatch(/^next: .+ \d+\.\d%.*; explained: /);
    expect(await page.textContent("#saliency-step")).toMatch(/^at step \d+$/);
    // a character the model never saw is a message, not a failure
    await page.fill("#saliency-text", "Jane \u2603");
    await page.click("#saliency-go");
    await expect.poll(() => page.textContent("#message")).toMatch(/is not in the model's vocabulary/);
  });

  it("a bad checkpoint upload shows a clear message and leaves the run alone", async () => {
    const before = await page.evaluate(() => window.rnnlab.step);
    await page.setInputFiles("#upload", {
      name: "notes.safetensors",
      mimeType: "application/octet-stream",
      buffer: Buffer.from("this is not a checkpoint at all"),
    });
    await page.waitForSelector("#message:not([hidden])", { timeout: 10_000 });
    const text = await page.textContent("#message");
    expect(text).toMatch(/notes\.safetensors is not a readable safetensors checkpoint/);
    expect(await page.evaluate(() => window.rnnlab.step)).toBe(before);
  });

  it("a downloaded checkpoint uploads again and continues from its step", async () => {
    const step = await page.evaluate(() => window.rnnlab.step);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    const path = await download.path();
    expect(path).toBeTruthy();
    await page.click("#reset");
    await expect.poll(() => page.textContent("#run-state")).toBe("idle");
    await page.setInputFiles("#upload", path!);
    await expect.poll(() => page.evaluate(() => window.rnnlab.step), { timeout: 10_000 }).toBe(step);
    expect(await page.isHidden("#message")).toBe(true);
    expect(await page.inputValue("#hidden")).toBe("64");
    // and the CLI reads it
    const r = spawnSync(process.execPath, [CLI, "sample", "--checkpoint", path!, "--length", "20"], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(problems).toEqual([]);
  });

  it("continues a checkpoint written by rnnlab train", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rnnlab-lab-"));
    try {
      const r = spawnSync(
        process.execPath,
        [CLI, "train", "--steps", "20", "--hidden", "24", "--embed", "16", "--batch", "8", "--seq", "16", "--eval-every", "20", "--threads", "1", "--out", dir],
        { cwd: ROOT, encoding: "utf8" },
      );
      expect(r.status, r.stderr).toBe(0);
      await page.click("#reset");
      await page.setInputFiles("#upload", join(dir, "checkpoint.safetensors"));
      await expect.poll(() => page.evaluate(() => window.rnnlab.step), { timeout: 10_000 }).toBe(20);
      expect(await page.inputValue("#hidden")).toBe("24");
      expect(await page.textContent("#info")).toContain("tiny Shakespeare");
      expect(await page.textContent("#note")).toMatch(/holds no chart history \(rnnlab train keeps it in metrics\.jsonl/);
      await page.click("#pause"); // resume
      await page.waitForFunction(() => window.rnnlab.step > 25, null, { timeout: 10_000 });
      await page.click("#pause");
      expect(await page.isHidden("#message")).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the error surface follows a dragged start point", async () => {
    const canvas = page.locator("#view-surface .plot canvas");
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const draws = await page.evaluate(() => window.rnnlab.draws().surface);
    const start = await page.evaluate(() => window.rnnlab.surfaceStart);
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.6, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => page.evaluate(() => window.rnnlab.draws().surface), { timeout: 5_000 }).toBeGreaterThan(draws);
    const moved = await page.evaluate(() => window.rnnlab.surfaceStart);
    expect(moved).not.toEqual(start);
    expect(moved![0]).toBeGreaterThan(4);
    expect(moved![0]).toBeLessThan(8);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it("my own text: a binary file or a too short text gets a message, a pasted text trains", async () => {
    await page.click("#reset");
    await page.check('input[name="source"][value="text"]');
    await page.setInputFiles("#text-file", {
      name: "image.bin",
      mimeType: "application/octet-stream",
      buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1]),
    });
    await expect.poll(() => page.textContent("#message")).toMatch(/image\.bin looks like a binary file/);
    await page.fill("#text", "too short");
    await page.click("#start");
    await expect
      .poll(() => page.textContent("#message"))
      .toMatch(/pasted text leaves \d+ characters for training, fewer than one batch needs .*use a longer text/);
    await page.fill("#text", "the cat sat on the mat. the dog sat on the log. ".repeat(80));
    await page.click("#start");
    await page.waitForFunction(() => window.rnnlab.step >= 20, null, { timeout: 15_000 });
    expect(await page.isHidden("#message")).toBe(true);
    expect(await page.textContent("#info")).toContain("pasted text: 3,840 characters");
    await page.click("#pause");
    await expect.poll(() => page.textContent("#run-state")).toBe("paused");
  });

  it("trains on a long-range task", async () => {
    await page.click("#reset");
    await page.check('input[name="source"][value="task"]');
    await page.selectOption("#task", "adding");
    await page.fill("#task-length", "30");
    await page.click("#start");
    await page.waitForFunction(() => window.rnnlab.step >= 30, null, { timeout: 20_000 });
    await expect.poll(async () => (await drawnViews())["view-heat"], { timeout: 10_000, interval: 250 }).toBe(true);
    expect(await page.textContent("#info")).toContain("Adding problem");
    await page.click("#pause");
    expect(problems).toEqual([]);
  });

  it("trains without cross-origin isolation too, on the TypeScript kernels", async () => {
    // the same files from a server that sends no COOP/COEP headers: no SharedArrayBuffer, so no
    // WebAssembly shared memory; the library falls back to its TypeScript kernels
    const web = fileURLToPath(new URL("../../dist/web/", import.meta.url));
    const plain = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const file = path === "/" ? join(web, "index.html") : path.startsWith("/data/") ? join(ROOT, path) : join(web, path);
      try {
        const body = readFileSync(file);
        res
          .writeHead(200, {
            "Content-Type": file.endsWith(".js") ? "text/javascript" : file.endsWith(".css") ? "text/css" : file.endsWith(".html") ? "text/html" : "text/plain",
          })
          .end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", () => r()));
    const other = await browser.newPage();
    const errors: string[] = [];
    other.on("pageerror", (e) => errors.push(e.message));
    other.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    try {
      await other.goto(`http://127.0.0.1:${(plain.address() as AddressInfo).port}/`);
      expect(await other.evaluate(() => crossOriginIsolated)).toBe(false);
      await expect.poll(() => other.textContent("#kernels"), { timeout: 10_000 }).toContain("TypeScript");
      await other.fill("#hidden", "32");
      await other.fill("#seq", "16");
      await other.fill("#batch", "8");
      await other.click("#start");
      await other.waitForFunction(() => window.rnnlab.step >= 20, null, { timeout: 40_000 });
      await other.click("#pause");
      expect(errors).toEqual([]);
    } finally {
      await other.close();
      plain.close();
    }
  });

  it("a text too short for the batch and window is caught before Start, with the fix offered", async () => {
    await page.click("#reset");
    await page.check('input[name="source"][value="text"]');
    // 960 characters, batch 8, window 50: 864 for training would do, the 96 held out for validation would not
    await page.fill("#text", "To be, or not to be, that is the question. ".repeat(23).slice(0, 960));
    await page.fill("#batch", "8");
    await page.fill("#seq", "50");
    await page.fill("#hidden", "32");
    await page.click("#start");
    await expect.poll(() => page.textContent("#message")).toMatch(/leaves 96 characters for validation, fewer than one batch needs .*truncation 11 fits/);
    expect(await page.textContent("#run-state")).toBe("idle"); // nothing started
    await page.click("#message button:has-text('Use truncation 11')");
    await page.waitForFunction(() => window.rnnlab.step >= 60, null, { timeout: 20_000 }); // past the first validation (step 50)
    expect(await page.isHidden("#message")).toBe(true);
    expect(await page.inputValue("#seq")).toBe("11");
    expect(await page.textContent("#run-state")).toBe("training");
    expect(await page.textContent("#loss-readout")).toMatch(/validation \d/);
    await page.click("#pause");
  });

  it("a run that diverges says so: a banner with the step and the skipped updates, marks on the charts", async () => {
    await page.click("#reset");
    await page.check('input[name="source"][value="task"]');
    await page.selectOption("#task", "adding");
    await page.fill("#task-length", "50");
    await page.selectOption("#cell", "rnn");
    await page.fill("#hidden", "128");
    await page.fill("#batch", "32");
    await page.selectOption("#optimizer", "sgd");
    await page.fill("#lr", "1");
    await page.selectOption("#clip-mode", "none");
    await page.click("#start");
    await page.waitForSelector("#banner:not([hidden])", { timeout: 20_000 });
    await page.waitForFunction(() => window.rnnlab.step >= 60, null, { timeout: 20_000 });
    const text = (await page.textContent("#banner-text"))!;
    const m = /^Diverged at step (\d+): ([\d,]+) of ([\d,]+) updates skipped/.exec(text);
    expect(m, text).not.toBeNull();
    const rows = await page.evaluate(() => window.rnnlab.rows());
    const firstBad = rows.find((r) => r.skipped || !Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm))!;
    expect(Number(m![1])).toBe(firstBad.step);
    expect(await page.evaluate(() => window.rnnlab.skipped)).toBeGreaterThan(0);
    expect(await page.textContent("#grad-readout")).toMatch(/steps not finite/);
    // the heat map's caption says the run diverged (its probe is computed on the weights kept)
    expect(await page.textContent("#heat-caption")).toMatch(/^the run diverged at step \d+/);
    // the log-scale charts draw the non-finite steps (red marks), not holes: within a redraw or two
    // of the divergence (the page redraws at most every 200 ms, and a fast run reaches step 60
    // before the first redraw that holds a non-finite step)
    await expect
      .poll(() => page.evaluate(() => document.querySelectorAll("#view-grad .plot svg .mark-symbol path, #view-grad .plot svg .mark-text text").length), {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    await page.click("#pause");
    // value clipping is not offered for a task
    expect(await page.evaluate(() => document.querySelector<HTMLOptionElement>('#clip-mode option[value="value"]')!.disabled)).toBe(true);
  });

  it("clipping turned on mid-run applies to the running model within a few steps, marked on the charts", async () => {
    await page.click("#reset");
    await page.check('input[name="source"][value="shakespeare"]');
    await page.fill("#hidden", "64");
    await page.fill("#seq", "32");
    await page.fill("#batch", "16");
    await page.selectOption("#optimizer", "sgd");
    await page.fill("#lr", "10");
    await page.selectOption("#clip-mode", "none");
    await page.click("#start");
    await page.waitForFunction(() => window.rnnlab.step >= 30, null, { timeout: 20_000 });
    // a restart-only setting edited while it runs is marked as such
    await page.fill("#hidden", "65");
    await expect.poll(() => page.textContent("#pending")).toMatch(/changed: hidden; press Restart/);
    await page.fill("#hidden", "64");
    // the threshold first (no clipping yet: nothing to apply), then the mode: clipping at 0.5 from the next step
    await page.fill("#clip", "0.5");
    await page.locator("#clip").dispatchEvent("change");
    await page.selectOption("#clip-mode", "norm");
    await expect.poll(() => page.evaluate(() => window.rnnlab.markers.length), { timeout: 5_000 }).toBeGreaterThan(0);
    const marker = (await page.evaluate(() => window.rnnlab.markers)).at(-1)!;
    expect(marker.label).toBe("clip norm 0.5");
    await page.waitForFunction((s) => window.rnnlab.step >= s + 20, marker.step, { timeout: 20_000 });
    const rows = await page.evaluate(() => window.rnnlab.rows());
    const before = rows.filter((r) => r.step <= marker.step);
    const afterRows = rows.filter((r) => r.step > marker.step + 2);
    expect(before.every((r) => !r.clipped)).toBe(true);
    // from the change on, exactly the steps whose norm exceeds 0.5 are clipped, and there are such steps
    expect(afterRows.length).toBeGreaterThan(10);
    expect(afterRows.map((r) => r.clipped)).toEqual(afterRows.map((r) => r.gradNorm > 0.5));
    expect(afterRows.filter((r) => r.clipped).length).toBeGreaterThan(5);
    expect(await page.textContent("#grad-readout")).toMatch(/norm clipping at 0\.5/);
    await page.fill("#lr", "0.5");
    await page.locator("#lr").dispatchEvent("change");
    await expect.poll(() => page.evaluate(() => window.rnnlab.markers.at(-1)!.label), { timeout: 5_000 }).toBe("lr 0.5");
    await page.click("#pause");
    await expect.poll(() => page.textContent("#run-state")).toBe("paused");
  });

  it("a checkpoint uploaded with the task chosen restores the whole page: data, settings, chart history, markers", async () => {
    await expect.poll(() => page.textContent("#run-state")).toBe("paused");
    const step = await page.evaluate(() => window.rnnlab.step);
    const markers = await page.evaluate(() => window.rnnlab.markers);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    const path = (await download.path())!;
    await page.click("#reset");
    await page.check('input[name="source"][value="task"]');
    await page.setInputFiles("#upload", path);
    await expect.poll(() => page.evaluate(() => window.rnnlab.step), { timeout: 10_000 }).toBe(step);
    expect(await page.isChecked('input[name="source"][value="shakespeare"]')).toBe(true);
    expect(await page.inputValue("#lr")).toBe("0.5");
    expect(await page.inputValue("#clip-mode")).toBe("norm");
    expect(await page.evaluate(() => window.rnnlab.rows().length)).toBe(step);
    expect(await page.evaluate(() => window.rnnlab.markers)).toEqual(markers);
    expect(await page.textContent("#loss-readout")).not.toMatch(/NaN/);
    expect(await page.isHidden("#message")).toBe(true);
    await expect.poll(() => page.evaluate(() => window.rnnlab.draws().loss), { timeout: 10_000 }).toBeGreaterThan(0);
  });

  it("a worker that dies is said on the page, with a restart that works", async () => {
    await page.evaluate(() => (window.rnnlab as unknown as { crashWorkerForTest(): void }).crashWorkerForTest());
    await page.waitForSelector("#banner:not([hidden])", { timeout: 10_000 });
    expect(await page.textContent("#banner-text")).toMatch(/The training worker stopped: .*deliberate crash/);
    expect(await page.textContent("#run-state")).toBe("stopped");
    await page.click("#banner button:has-text('Restart the worker')");
    expect(await page.isHidden("#banner")).toBe(true);
    await page.check('input[name="source"][value="shakespeare"]');
    await page.fill("#hidden", "32");
    await page.selectOption("#optimizer", "adam");
    await page.fill("#lr", "0.003");
    await page.click("#start");
    await page.waitForFunction(() => window.rnnlab.step >= 10, null, { timeout: 20_000 });
    await page.click("#pause");
    problems.length = 0; // the deliberate crash's console line
  });

  it("runs side by side: a pinned run is drawn faded on the charts and survives a reload", async () => {
    await page.click("#pin");
    await expect.poll(() => page.textContent("#pinned")).toMatch(/^pinned \(grey on the charts\): tanh RNN 32, adam lr 0\.003/);
    await page.reload();
    await page.waitForFunction(() => window.rnnlab?.draws().surface > 0, null, { timeout: 15_000 });
    expect(await page.textContent("#pinned")).toMatch(/^pinned \(grey on the charts\): tanh RNN 32/);
    await page.fill("#hidden", "32");
    await page.click("#start");
    await page.waitForFunction(() => window.rnnlab.step >= 30, null, { timeout: 20_000 });
    await page.click("#pause");
    // the heat map shows the pinned run's beside this one's: two maps in one view
    await expect.poll(() => page.evaluate(() => window.rnnlab.draws().heat), { timeout: 10_000 }).toBeGreaterThan(0);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#pin-download")]);
    const pinned = JSON.parse(readFileSync((await download.path())!, "utf8"));
    expect(pinned.loss.length).toBeGreaterThan(5);
    expect(pinned.heat.length).toBeGreaterThan(0);
    await page.click("#pin-clear");
    expect(await page.textContent("#pinned")).toBe("");
    problems.length = 0;
  });

  it("lecture mode: a step's one click sets up and starts its run, its second button applies to the running model", async () => {
    await page.locator("#lecture button", { hasText: "Run this: Exploding gradients" }).click();
    await page.waitForFunction(() => window.rnnlab.step >= 15 && window.rnnlab.running, null, { timeout: 30_000 });
    expect(await page.inputValue("#optimizer")).toBe("sgd");
    expect(await page.inputValue("#lr")).toBe("5");
    expect(await page.inputValue("#clip-mode")).toBe("none");
    expect(await page.inputValue("#hidden")).toBe("128");
    await page.locator("#lecture button", { hasText: "Now turn clipping on" }).first().click();
    await expect.poll(() => page.evaluate(() => window.rnnlab.markers.at(-1)?.label), { timeout: 10_000 }).toBe("clip norm 1");
    await page.click("#pause");
    await expect.poll(() => page.textContent("#run-state")).toBe("paused");
    await page.locator("#lecture button", { hasText: "Run this: The single-neuron wall" }).click();
    await expect.poll(() => page.evaluate(() => window.rnnlab.surfaceStart), { timeout: 10_000 }).toEqual([5.2, -4]);
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  it("works by keyboard alone: every control has a label, the upload is reachable, Start by Tab and Enter", async () => {
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>("aside input, aside select, aside textarea, aside button, .views input, .views button"))
        .filter((el) => {
          const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute("aria-label") || (el.tagName === "BUTTON" && el.textContent!.trim());
          return !labelled;
        })
        .map((el) => el.id || el.outerHTML.slice(0, 60)),
    );
    expect(unlabelled).toEqual([]);
    // the file inputs can take focus (they are not display: none)
    for (const id of ["upload", "text-file"]) {
      await page.check(id === "text-file" ? 'input[name="source"][value="text"]' : 'input[name="source"][value="shakespeare"]');
      await page.focus(`#${id}`);
      expect(await page.evaluate(() => document.activeElement?.id)).toBe(id);
    }
    await page.check('input[name="source"][value="shakespeare"]');
    await page.click("#reset");
    await page.focus("#seed");
    let id = "";
    for (let i = 0; i < 40 && id !== "start"; i++) {
      await page.keyboard.press("Tab");
      id = await page.evaluate(() => document.activeElement?.id ?? "");
    }
    expect(id).toBe("start");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.rnnlab.step >= 5, null, { timeout: 20_000 });
    await page.keyboard.press("Tab"); // Pause is next
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("pause");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.textContent("#run-state"), { timeout: 10_000 }).toBe("paused");
  });

  it("at phone width (390 px) and 1,024 px nothing scrolls sideways; the first screen says what to do", async () => {
    for (const width of [390, 1024]) {
      const small = await browser.newPage({ viewport: { width, height: 844 } });
      try {
        await small.goto(url);
        expect(await small.textContent("#view-loss .placeholder")).toMatch(/Press Start/);
        await small.waitForFunction(() => window.rnnlab?.draws().surface > 0, null, { timeout: 15_000 });
        await small.fill("#hidden", "32");
        await small.click("#start");
        await small.waitForFunction(() => window.rnnlab.step >= 60, null, { timeout: 20_000 });
        await expect.poll(() => small.evaluate(() => window.rnnlab.draws().loss), { timeout: 10_000 }).toBeGreaterThan(0);
        await small.waitForTimeout(800);
        const over = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(over, `${width} px`).toBeLessThanOrEqual(0);
        await small.click("#pause");
      } finally {
        await small.close();
      }
    }
  });

  it("charts are updated in place: past the history it keeps, over 15 s and 8,000 steps, the page builds no new views and its heap grows by less than 1.5 KB a step", async () => {
    await page.click("#reset");
    await page.check('input[name="source"][value="shakespeare"]');
    await page.fill("#hidden", "16");
    await page.fill("#seq", "8");
    await page.fill("#batch", "4");
    await page.selectOption("#optimizer", "adam");
    await page.fill("#lr", "0.003");
    await page.selectOption("#clip-mode", "norm");
    await page.fill("#clip", "1");
    await page.click("#start");
    const cdp = await page.context().newCDPSession(page);
    // the heap the page keeps: paused, after its last redraws have finished (a redraw in flight holds
    // tens of MB for a moment), the least of three samples, each after a full garbage collection
    const settledHeap = async () => {
      await page.click("#pause");
      await expect.poll(() => page.textContent("#run-state")).toBe("paused");
      await page.waitForTimeout(2500);
      let least = Infinity;
      for (let i = 0; i < 3; i++) {
        await cdp.send("HeapProfiler.collectGarbage");
        least = Math.min(least, (await cdp.send("Runtime.getHeapUsage")).usedSize);
        await page.waitForTimeout(300);
      }
      return least;
    };
    // past the history the page keeps (10,000 steps; older ones thinned), then 15 s and 8,000 steps more
    await page.waitForFunction(() => window.rnnlab.step >= 12_000, null, { timeout: 120_000 });
    const h0 = await settledHeap();
    const builds0 = await page.evaluate(() => window.rnnlab.builds());
    const draws0 = await page.evaluate(() => window.rnnlab.draws());
    const s0 = await page.evaluate(() => window.rnnlab.step);
    await page.click("#pause"); // resume
    await page.waitForTimeout(15_000);
    await page.waitForFunction((s) => window.rnnlab.step >= s + 8000, s0, { timeout: 180_000 });
    const h1 = await settledHeap();
    const builds1 = await page.evaluate(() => window.rnnlab.builds());
    const draws1 = await page.evaluate(() => window.rnnlab.draws());
    const s1 = await page.evaluate(() => window.rnnlab.step);
    for (const k of ["loss", "grad", "heat"]) {
      expect(draws1[k] - draws0[k], k).toBeGreaterThan(5); // redrawn all along
      expect(builds1[k] - builds0[k], `${k}: new views built`).toBeLessThanOrEqual(2);
    }
    expect(await page.evaluate(() => window.rnnlab.rows().length)).toBeLessThanOrEqual(10_000);
    console.log(`lab heap: ${(h0 / 1e6).toFixed(1)} MB at step ${s0}, ${(h1 / 1e6).toFixed(1)} MB at step ${s1}`);
    // a guard against what used to grow (a line with one point per step: 3.8 KB a step): now about
    // 0.6 KB a step remains (vega's item lookup of the redrawn marks), under 1.5 KB a step
    expect((h1 - h0) / (s1 - s0)).toBeLessThan(1500);
  }, 240_000);

  it("rnnlab lab refuses a busy port with one line and exit status 2", () => {
    const port = new URL(url).port;
    const r = spawnSync(process.execPath, [CLI, "lab", "--port", port], { cwd: ROOT, encoding: "utf8", timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/port \d+ on 127\.0\.0\.1 is in use/);
  });

  it("stops cleanly on Ctrl-C", async () => {
    let out = "";
    server.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => server.once("exit", (code) => r(code)));
    server.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).toContain("rnnlab lab: stopped");
  });
});
