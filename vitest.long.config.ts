import { defineConfig } from "vitest/config";

// Opt-in long tests (npm run test:long): not part of npm test or CI.
export default defineConfig({
  test: {
    include: ["test/long/**/*.test.ts"],
    testTimeout: 600_000,
    setupFiles: ["test/setup.ts"],
  },
});
