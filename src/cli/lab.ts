// rnnlab lab: serves the browser lab (built by Vite into dist/web) on 127.0.0.1. The page trains
// in a Web Worker; this file only serves files. It sends the cross-origin isolation headers
// (COOP same-origin, COEP require-corp) so the page may use SharedArrayBuffer, which the
// WebAssembly kernels' shared memory needs; without them the library falls back to its
// TypeScript kernels.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzip, gzipSync } from "node:zlib";
import { Command, InvalidArgumentError } from "commander";
import { InputError } from "../node/files.js";
import { say } from "./output.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".safetensors": "application/octet-stream",
};
const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".map", ".svg", ".txt", ".wasm"]);

function portArg(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n > 65535) throw new InvalidArgumentError("expected a port number from 1 to 65535 (0: any free port)");
  return n;
}

/** The built lab (dist/web) and the embedded corpus, from dist/cli/lab.js or from src/cli/lab.ts. */
function locate(): { web: string; corpus: string } {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const candidates = [join(here, "..", "web"), join(here, "..", "..", "dist", "web")];
  const web = candidates.find((d) => existsSync(join(d, "index.html")));
  if (!web) throw new InputError("the lab's files are not built (no dist/web/index.html); run npm run build in the rnnlab folder");
  return { web, corpus: join(here, "..", "..", "data", "tinyshakespeare.txt") };
}

export function labCommand(): Command {
  return new Command("lab")
    .description("the browser lab: train in a Web Worker and watch gradients, spectra and clipping live (serves 127.0.0.1 only)")
    .option("--port <n>", "port to serve on (default: a free one)", portArg)
    .action(async (o: { port?: number }) => {
      process.exitCode = await lab(o.port ?? 0);
    });
}

/** Serves the lab until SIGINT/SIGTERM; returns the exit status. */
async function lab(port: number): Promise<number> {
  const { web, corpus } = locate();
  const gz = new Map<string, Buffer>();
  let hosts = new Set<string>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const common = {
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "Cross-Origin-Resource-Policy": "same-origin",
      "X-Content-Type-Options": "nosniff",
    };
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 must not read the lab
    if (!hosts.has(String(req.headers.host ?? "").toLowerCase())) {
      res.writeHead(403, { ...common, "Content-Type": "text/plain; charset=utf-8" }).end("forbidden: the lab answers only to 127.0.0.1 and localhost\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...common, Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("method not allowed\n");
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    } catch {
      res.writeHead(400, { ...common, "Content-Type": "text/plain; charset=utf-8" }).end("bad request\n");
      return;
    }
    let file: string;
    if (path === "/data/tinyshakespeare.txt") file = corpus;
    else {
      const rel = normalize(path === "/" ? "/index.html" : path).replace(/^([/\\])+/, "");
      file = join(web, rel);
      if (!file.startsWith(web + sep) && file !== web) file = "";
    }
    let ok = false;
    let key = "";
    try {
      const st = file !== "" ? statSync(file) : null;
      ok = st?.isFile() === true;
      if (st) key = `${file}\0${st.mtimeMs}\0${st.size}`;
    } catch {
      ok = false;
    }
    if (!ok) {
      res.writeHead(404, { ...common, "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    const ext = extname(file).toLowerCase();
    const headers: Record<string, string> = { ...common, "Content-Type": TYPES[ext] ?? "application/octet-stream", "Cache-Control": "no-cache" };
    let body: Buffer;
    const accepts = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    if (accepts && COMPRESSIBLE.has(ext)) {
      let z = gz.get(key);
      if (!z) gz.set(key, (z = gzipSync(readFileSync(file))));
      body = z;
      headers["Content-Encoding"] = "gzip";
      headers.Vary = "Accept-Encoding";
    } else {
      body = readFileSync(file);
    }
    headers["Content-Length"] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE")
        reject(new InputError(`port ${port} on 127.0.0.1 is in use; choose another with --port, or leave --port out for a free one`));
      else if (e.code === "EACCES") reject(new InputError(`port ${port} needs privileges this user lacks; choose a port above 1023, or leave --port out`));
      else reject(new InputError(`cannot serve on 127.0.0.1:${port}: ${e.message}`));
    });
    server.listen(port, "127.0.0.1", () => resolve());
  });
  // compress the assets in the background now, so that the first page load does not wait for it
  const warm = (file: string) => {
    try {
      const st = statSync(file);
      const key = `${file}\0${st.mtimeMs}\0${st.size}`;
      gzip(readFileSync(file), (err, z) => {
        if (!err && !gz.has(key)) gz.set(key, z);
      });
    } catch {
      // a file that vanished is served (or not) when asked for
    }
  };
  for (const e of readdirSync(web, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && COMPRESSIBLE.has(extname(e.name).toLowerCase())) warm(join(e.parentPath, e.name));
  }
  if (existsSync(corpus)) warm(corpus);
  const addr = server.address() as AddressInfo;
  hosts = new Set([`127.0.0.1:${addr.port}`, `localhost:${addr.port}`]);
  say(`rnnlab lab: serving on http://127.0.0.1:${addr.port}/ (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  say("rnnlab lab: stopped\n");
  return 0;
}
