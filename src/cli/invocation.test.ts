import { describe, expect, it } from "vitest";
import { commandPrefix, type Invocation } from "./invocation.js";

/** An invocation on a file system holding exactly `files`. */
function inv(script: string, real: string, files: string[], platform = "posix"): Invocation {
  return { script, real, exists: (p) => files.includes(p), platform };
}

describe("commandPrefix", () => {
  it("says rnnlab for npm's global link on POSIX (install -g)", () => {
    const files = ["/usr/local/bin/rnnlab", "/usr/local/lib/node_modules/rnnlab"];
    expect(commandPrefix(inv("/usr/local/bin/rnnlab", "/usr/local/lib/node_modules/rnnlab/dist/cli/main.js", files))).toBe("rnnlab");
  });

  it("says rnnlab for npm link, whose package resolves to a clone outside any node_modules", () => {
    const files = ["/home/u/.nvm/versions/node/v20/bin/rnnlab", "/home/u/.nvm/versions/node/v20/lib/node_modules/rnnlab"];
    expect(commandPrefix(inv("/home/u/.nvm/versions/node/v20/bin/rnnlab", "/home/u/src/rnnlab/dist/cli/main.js", files))).toBe("rnnlab");
  });

  it("says rnnlab when the global package's main.js is started by its real path", () => {
    const files = ["/opt/npm/bin/rnnlab"];
    const main = "/opt/npm/lib/node_modules/rnnlab/dist/cli/main.js";
    expect(commandPrefix(inv(main, main, files))).toBe("rnnlab");
    // the same layout without the bin link is not npm's global install
    expect(commandPrefix(inv(main, main, []))).toBe("npx rnnlab");
  });

  it("says rnnlab for the Windows shim beside the global node_modules", () => {
    const main = "C:\\Users\\u\\AppData\\Roaming\\npm\\node_modules\\rnnlab\\dist\\cli\\main.js";
    expect(commandPrefix(inv(main, main, ["C:\\Users\\u\\AppData\\Roaming\\npm\\rnnlab.cmd"], "win32"))).toBe("rnnlab");
    expect(commandPrefix(inv(main, main, [], "win32"))).toBe("npx rnnlab");
  });

  it("says npx rnnlab for a project's node_modules/.bin (npx, npm scripts), even when a global install exists too", () => {
    const files = ["/usr/local/bin/rnnlab", "/usr/local/lib/node_modules/rnnlab"];
    expect(commandPrefix(inv("/work/app/node_modules/.bin/rnnlab", "/work/app/node_modules/rnnlab/dist/cli/main.js", files))).toBe("npx rnnlab");
    // npx fetching the package into its cache
    const cache = "/home/u/.npm/_npx/0a1b/node_modules";
    expect(commandPrefix(inv(`${cache}/.bin/rnnlab`, `${cache}/rnnlab/dist/cli/main.js`, files))).toBe("npx rnnlab");
  });

  it("says npx rnnlab for the clone's dist and a project's package started by path", () => {
    expect(commandPrefix(inv("/work/main/dist/cli/main.js", "/work/main/dist/cli/main.js", []))).toBe("npx rnnlab");
    const main = "/work/app/node_modules/rnnlab/dist/cli/main.js";
    expect(commandPrefix(inv(main, main, ["/work/app/node_modules/.bin/rnnlab"]))).toBe("npx rnnlab");
    // a project that happens to sit in a folder named lib: no PREFIX/bin/rnnlab link, so not global
    const lib = "/srv/lib/node_modules/rnnlab/dist/cli/main.js";
    expect(commandPrefix(inv(lib, lib, ["/srv/lib/node_modules/.bin/rnnlab"]))).toBe("npx rnnlab");
  });
});
