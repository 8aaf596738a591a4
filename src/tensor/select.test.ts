import { afterEach, describe, expect, it, vi } from "vitest";

// each case imports a fresh copy of select.ts: the default kernel set is chosen once per module
const fresh = async () => {
  vi.resetModules();
  return { ...(await import("./select.js")), InputError: (await import("../errors.js")).InputError };
};

describe("choosing the kernel set", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("useKernels refuses a name that is no kernel set, naming the ones there are", async () => {
    const { useKernels, InputError } = await fresh();
    expect(() => useKernels("wasm-fast" as never)).toThrow(InputError);
    expect(() => useKernels("wasm-fast" as never)).toThrow(/no kernel set named "wasm-fast"; choose one of auto, wasm, wasm-exact, js, js-reference/);
  });

  it("RNNLAB_KERNELS that names no set is an error, not a silent fallback to another set", async () => {
    vi.stubEnv("RNNLAB_KERNELS", "fast");
    const { defaultKernels, InputError } = await fresh();
    expect(() => defaultKernels()).toThrow(InputError);
    expect(() => defaultKernels()).toThrow(/RNNLAB_KERNELS is "fast", which names no kernel set/);
  });

  it.each([
    ["js", "js-tiled"],
    ["js-reference", "js"],
  ])("RNNLAB_KERNELS=%s selects that set", async (choice, name) => {
    vi.stubEnv("RNNLAB_KERNELS", choice);
    const { defaultKernels } = await fresh();
    expect(defaultKernels().name).toBe(name);
  });

  it("an empty RNNLAB_KERNELS is the same as unset", async () => {
    vi.stubEnv("RNNLAB_KERNELS", "");
    const { defaultKernels, useKernels } = await fresh();
    expect(defaultKernels().name).toBe(useKernels("auto").name);
  });
});
