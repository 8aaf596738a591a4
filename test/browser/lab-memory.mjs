// The lab's memory over a long run: the page trains the default tanh RNN on tiny Shakespeare for
// N minutes (default 30) while its charts redraw, and every minute this prints the renderer's
// JavaScript heap after a garbage collection, its DOM node count, the charts' draws and the
// views built, and the renderer process's resident memory (from /proc).
// Run after `npm run build`:  node test/browser/lab-memory.mjs [minutes]
// Uses Debian's chromium (/usr/bin/chromium, or RNNLAB_CHROMIUM) through playwright-core.

import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { startLab } from "./serve-lab.mjs";

const minutes = Number(process.argv[2] ?? 30);
const { url, server } = await startLab();

/** Resident memory (MB) of this browser's renderer processes (the page's; its workers live in it), from /proc. */
async function rendererRss(bcdp) {
  const { processInfo } = await bcdp.send("SystemInfo.getProcessInfo");
  let kb = 0;
  for (const p of processInfo.filter((x) => x.type === "renderer")) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.id}/status`, "utf8"));
      if (m) kb += Number(m[1]);
    } catch {
      // the process ended
    }
  }
  return kb / 1024;
}

const browser = await chromium.launch({ executablePath: process.env.RNNLAB_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url);
  await page.waitForFunction(() => window.rnnlab?.draws().surface > 0);
  await page.click("#start"); // the page's defaults: tanh RNN 128, batch 32 x 50, adam 0.003, clip norm 1
  const cdp = await page.context().newCDPSession(page);
  const bcdp = await browser.newBrowserCDPSession();
  const t0 = Date.now();
  console.log("minute  step      heap MB  DOM nodes  renderer RSS MB  draws (loss/grad/heat/eig)  views built");
  for (let k = 0; k <= minutes; k++) {
    if (k > 0) await new Promise((r) => setTimeout(r, t0 + k * 60_000 - Date.now()));
    await cdp.send("HeapProfiler.collectGarbage");
    const heap = (await cdp.send("Runtime.getHeapUsage")).usedSize / 1e6;
    const dom = (await cdp.send("Memory.getDOMCounters")).nodes;
    const s = await page.evaluate(() => ({ step: window.rnnlab.step, draws: window.rnnlab.draws(), builds: window.rnnlab.builds() }));
    const d = s.draws;
    const b = s.builds;
    console.log(
      `${String(k).padStart(6)}  ${String(s.step).padEnd(8)}  ${heap.toFixed(1).padStart(7)}  ${String(dom).padStart(9)}  ${(await rendererRss(bcdp)).toFixed(0).padStart(15)}  ` +
        `${`${d.loss}/${d.grad}/${d.heat}/${d.eig}`.padEnd(26)}  ${b.loss}/${b.grad}/${b.heat}/${b.eig}`,
    );
  }
} finally {
  await browser.close();
  server.kill("SIGINT");
}
