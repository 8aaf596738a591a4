import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["test/long/**", "**/node_modules/**"], // test/long: npm run test:long
    testTimeout: 60_000,
    setupFiles: ["test/setup.ts"],
  },
});
