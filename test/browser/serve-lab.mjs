// `rnnlab lab` (the built CLI) started for the scripts beside this file, with its address.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Starts `rnnlab lab` from the repository's dist/ and resolves with its address and process (stop it with SIGINT). */
export async function startLab() {
  const server = spawn(process.execPath, ["dist/cli/main.js", "lab"], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    let text = "";
    server.stdout.on("data", (d) => {
      text += d;
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(text);
      if (m) resolve(m[0]);
    });
    server.on("exit", (c) => reject(new Error(`rnnlab lab exited with ${c}`)));
  });
  return { url, server };
}
