// The peak resident set of the calling process, for the bench's child processes: VmHWM from
// /proc/self/status, since getrusage's maxRSS also counts the memory the parent had when it
// forked the child (a bench parent of 300 MB made every child report at least 300 MB).
import { readFileSync } from "node:fs";

/** Peak resident set of this process in bytes. */
export function peakRss() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {}
  return process.resourceUsage().maxRSS * 1024;
}
