import { defineConfig } from "vitest/config";

// The fast inner loop (npm run test:unit): unit tests beside the code, gradient checks and PyTorch
// parity; no web bundle, no browser, no end-to-end runs of the command line.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/gradcheck/**/*.test.ts", "test/parity/**/*.test.ts"],
    testTimeout: 60_000,
    setupFiles: ["test/setup.ts"],
  },
});
