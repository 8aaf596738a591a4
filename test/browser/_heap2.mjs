import { spawn } from "node:child_process";
import { chromium } from "playwright-core";
const server = spawn(process.execPath, ["dist/cli/main.js", "lab"], { cwd: "/work/main", stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve) => { let t = ""; server.stdout.on("data", (d) => { t += d; const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(t); if (m) resolve(m[0]); }); });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
await page.goto(url);
await page.waitForFunction(() => window.rnnlab?.draws().surface > 0);
for (const [id, v] of [["hidden", "16"], ["seq", "8"], ["batch", "4"]]) await page.fill(`#${id}`, v);
await page.click("#start");
const cdp = await page.context().newCDPSession(page);
await page.waitForFunction(() => window.rnnlab.step >= 8000, null, { timeout: 240000 });
await page.click("#pause");
await cdp.send("HeapProfiler.collectGarbage");
const chunks = [];
cdp.on("HeapProfiler.addHeapSnapshotChunk", (e) => chunks.push(e.chunk));
await cdp.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
const s = JSON.parse(chunks.join(""));
const nf = s.snapshot.meta.node_fields.length, ef = s.snapshot.meta.edge_fields.length;
const ntypes = s.snapshot.meta.node_types[0], etypes = s.snapshot.meta.edge_types[0];
const N = s.nodes.length / nf;
const firstEdge = new Uint32Array(N + 1);
for (let i = 0, e = 0; i < N; i++) { firstEdge[i] = e; e += s.nodes[i * nf + 4] * ef; firstEdge[i + 1] = e; }
const ret = Array.from({ length: N }, () => []);
for (let i = 0; i < N; i++) for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += ef) {
  const to = s.edges[e + 2] / nf; const t = etypes[s.edges[e]]; if (t === "weak") continue;
  const nm = t === "element" || t === "hidden" ? `[${s.edges[e + 1]}]` : s.strings[s.edges[e + 1]];
  ret[to].push([i, `${t}:${nm}`]);
}
const desc = (i) => `${ntypes[s.nodes[i * nf]]}:${String(s.strings[s.nodes[i * nf + 1]]).slice(0, 40)}`;
let shown = 0;
for (let i = 0; i < N && shown < 3; i++) if (ntypes[s.nodes[i * nf]] === "concatenated string") {
  let j = i, d = 0;
  while (ret[j].length && ntypes[s.nodes[ret[j][0][0] * nf]] === "concatenated string" && d < 100000) { j = ret[j][0][0]; d++; }
  if (d < 50) continue;
  shown++;
  const out = [`depth ${d} of cons strings; top: ${desc(j)} len ${s.nodes[j * nf + 3]}`];
  for (let k = 0; k < 10 && ret[j].length; k++) { const [p2, e2] = ret[j][0]; out.push(`${e2} <- ${desc(p2)}`); j = p2; }
  console.log(out.join("\n  "));
  // the text itself: the first child string
  let t = i; for (let k = 0; k < 3; k++) { const kids = []; for (let e = firstEdge[t]; e < firstEdge[t + 1]; e += ef) kids.push(s.edges[e + 2] / nf); t = kids[0] ?? t; }
  console.log("  sample:", desc(t));
}
await browser.close(); server.kill("SIGINT");
