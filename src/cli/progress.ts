// Progress output of `rnnlab train`: a live bar on a terminal (cli-progress), one plain line per
// evaluation otherwise (CI logs, pipes). Lines printed while the bar is live appear above it.

import cliProgress from "cli-progress";
import { say } from "./output.js";

export interface ProgressPayload {
  loss: string;
  bpc: string;
  val: string;
  grad: string;
  clip: string;
  speed: string;
  eta: string;
}

export interface Progress {
  /** Redraws the bar (terminal only). */
  update(step: number, total: number, p: ProgressPayload): void;
  /** Prints a line (above the bar on a terminal). */
  line(s: string): void;
  stop(): void;
}

/** A live bar when `tty`, else plain lines. */
export function createProgress(tty: boolean): Progress {
  if (!tty) {
    return {
      update() {},
      line: (s) => say(`${s}\n`),
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: " {bar} {value}/{total} | loss {loss} ({bpc}) | val {val} | grad {grad} | clipped {clip} | {speed} tokens/s | ETA {eta}",
      hideCursor: true,
      clearOnComplete: false,
      gracefulExit: false,
      barsize: 20,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(step, total, p) {
      if (!bar) bar = multi.create(total, step, p);
      bar.setTotal(total);
      bar.update(step, p);
    },
    line(s) {
      if (bar) multi.log(`${s}\n`);
      else say(`${s}\n`);
    },
    stop() {
      multi.stop();
    },
  };
}
