// The lab's server answers only to its own names: a page on another name that resolves to
// 127.0.0.1 (DNS rebinding) gets 403 and cannot read the lab. No browser needed.

import { request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rnnlabAsync, scratch } from "../helpers/cli.js";

let port = 0;
const server = rnnlabAsync(scratch(), "lab");

beforeAll(async () => {
  port = await new Promise<number>((resolve, reject) => {
    let out = "";
    server.stdout!.on("data", (d) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.on("exit", (code) => reject(new Error(`rnnlab lab exited with ${code}`)));
  });
}, 30_000);
afterAll(() => {
  server.kill("SIGINT");
});

function get(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("rnnlab lab: Host check", () => {
  it("serves 127.0.0.1:PORT and localhost:PORT, and nothing else", async () => {
    expect(await get(`127.0.0.1:${port}`)).toBe(200);
    expect(await get(`localhost:${port}`)).toBe(200);
    expect(await get(`LOCALHOST:${port}`)).toBe(200);
    for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1:${port + 1}`, "127.0.0.1", `localhost.evil.example:${port}`]) {
      expect(await get(host), host).toBe(403);
    }
    // no Host header at all (HTTP/1.0)
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = connect(port, "127.0.0.1", () => sock.end("GET / HTTP/1.0\r\n\r\n"));
      let got = "";
      sock.on("data", (d) => (got += d));
      sock.on("end", () => resolve(got));
      sock.on("error", reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 403/);
  });
});
