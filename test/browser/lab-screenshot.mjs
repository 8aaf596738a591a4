// Screenshot of the lab mid-training (docs/lab.png) and its page weight and first render time.
// Run after `npm run build`:  node test/browser/lab-screenshot.mjs [out.png]
// Uses Debian's chromium (/usr/bin/chromium, or RNNLAB_CHROMIUM) through playwright-core.

import { get } from "node:http";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startLab } from "./serve-lab.mjs";

const out = process.argv[2] ?? fileURLToPath(new URL("../../docs/lab.png", import.meta.url));
const { url, server } = await startLab();
const browser = await chromium.launch({ executablePath: process.env.RNNLAB_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  // 1. a cold load: bytes over the wire (as sent: gzip) and the time to the first chart
  const context = await browser.newContext({ viewport: { width: 1480, height: 1000 } });
  const page = await context.newPage();
  // every URL the page and its worker request, sized as the server sends it (gzip); Playwright's
  // own sizes miss the worker's script
  const urls = [];
  page.on("request", (req) => urls.push(req.url()));
  const wire = (u) => new Promise((resolve, reject) => {
    get(u, { headers: { "Accept-Encoding": "gzip" } }, (res) => {
      let n = 0;
      res.on("data", (d) => (n += d.length));
      res.on("end", () => resolve(n));
    }).on("error", reject);
  });
  const sizeOf = async (list) => Promise.all(list.map(async (u) => ({ url: u.replace(url, "/"), bytes: await wire(u) })));
  const t0 = Date.now();
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.rnnlab?.timing.firstChart > 0);
  const wall = Date.now() - t0;
  const t = await page.evaluate(() => ({
    firstChart: window.rnnlab.timing.firstChart,
    workerReady: window.rnnlab.timing.workerReady,
    firstData: window.rnnlab.timing.firstData,
    fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1,
    load: performance.getEntriesByType("navigation")[0]?.loadEventEnd ?? -1,
  }));
  await page.waitForTimeout(300);
  const sizes = await sizeOf(urls);
  const total = sizes.reduce((s, r) => s + r.bytes, 0);
  console.log("requests on load:");
  for (const r of sizes) console.log(`  ${r.url}  ${r.bytes} bytes`);
  console.log(`page weight: ${total} bytes transferred (${(total / 1024).toFixed(0)} KiB, gzip bodies) in ${sizes.length} requests`);
  console.log(`worker ready ${t.workerReady.toFixed(0)} ms, first numbers ${t.firstData.toFixed(0)} ms`);
  console.log(`first contentful paint ${t.fcp.toFixed(0)} ms, load event ${t.load.toFixed(0)} ms, first chart drawn ${t.firstChart.toFixed(0)} ms after navigation start (${wall} ms wall, from goto)`);

  // 2. mid-training: a tanh RNN with a low clipping threshold, so that clipping shows
  await page.fill("#hidden", "128");
  await page.fill("#seq", "50");
  await page.fill("#lr", "0.003");
  await page.fill("#clip", "0.35");
  const before = urls.length;
  await page.click("#start");
  await page.waitForFunction(() => window.rnnlab.step >= 400, null, { timeout: 120_000 });
  await page.click("#pause");
  await page.waitForTimeout(1500); // the last redraws
  const corpus = (await sizeOf(urls.slice(before))).reduce((s, r) => s + r.bytes, 0);
  console.log(`starting the run fetched ${corpus} more bytes (the embedded tiny Shakespeare, gzip)`);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);

  // 3. the lecture mode's exploding step, with clipping turned on mid-run (docs/lab-clipping.png)
  const docs = (name) => fileURLToPath(new URL(`../../docs/${name}`, import.meta.url));
  await page.locator("#lecture button", { hasText: "Run this: Exploding gradients" }).click();
  await page.waitForFunction(() => window.rnnlab.step >= 80 && window.rnnlab.running, null, { timeout: 120_000 });
  await page.locator("#lecture button", { hasText: "Now turn clipping on" }).first().click();
  await page.waitForFunction(() => window.rnnlab.markers.length > 0, null, { timeout: 10_000 });
  const at = await page.evaluate(() => window.rnnlab.markers[0].step);
  await page.waitForFunction((s) => window.rnnlab.step >= s + 120, at, { timeout: 120_000 });
  await page.click("#pause");
  await page.waitForTimeout(1500);
  const rows = await page.evaluate(() => window.rnnlab.rows());
  const mean = (a) => a.reduce((s, r) => s + r.loss, 0) / a.length;
  console.log(
    `exploding step: clipping on at step ${at}; mean loss ${mean(rows.filter((r) => r.step > at - 20 && r.step <= at)).toFixed(2)} (20 steps before), ` +
      `${mean(rows.filter((r) => r.step > at + 100 && r.step <= at + 120)).toFixed(2)} (steps ${at + 101}–${at + 120}); largest norm before ${Math.max(...rows.filter((r) => r.step <= at).map((r) => r.gradNorm)).toFixed(0)}`,
  );
  await page.evaluate(() => window.scrollTo(0, 0));
  const a = (await page.locator("#view-loss").boundingBox());
  const b = (await page.locator("#view-grad").boundingBox());
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  await page.screenshot({ path: docs("lab-clipping.png"), fullPage: true, clip: { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y } });
  console.log(`wrote ${docs("lab-clipping.png")}`);

  // 4. at phone width (docs/lab-phone.png)
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await phone.goto(url);
  await phone.waitForFunction(() => window.rnnlab?.draws().surface > 0);
  await phone.click("#start");
  await phone.waitForFunction(() => window.rnnlab.step >= 150, null, { timeout: 120_000 });
  await phone.click("#pause");
  await phone.waitForTimeout(1500);
  await phone.locator("#view-loss").scrollIntoViewIfNeeded();
  await phone.screenshot({ path: docs("lab-phone.png") });
  console.log(`wrote ${docs("lab-phone.png")}; horizontal overflow ${await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)} px`);
} finally {
  await browser.close();
  server.kill("SIGINT");
}
