// A small timing harness: warm up, then time `runs` repetitions and report the median.
// Every speed claim in README comes from a bench in this folder, run against its baseline in
// the same process on the same machine.

import os from "node:os";

/** Median seconds of `runs` timed calls of `fn`, after `warmup` untimed ones. */
export function medianSeconds(fn: () => void, runs = 7, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push((performance.now() - t0) / 1000);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

/** One line naming the machine and runtime, for the top of every report. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  return `${new Date().toISOString().slice(0, 10)}, ${cpu}, ${os.cpus().length} cores, Node ${process.version}`;
}

/** Prints rows as an aligned Markdown table. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(w[c])).join(" | ")} |`;
  console.log(line(header));
  console.log(`| ${w.map((n) => "-".repeat(n)).join(" | ")} |`);
  for (const r of cells.slice(1)) console.log(line(r));
}
