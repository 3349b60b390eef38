import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      globalSetup: ["./test/global-setup.ts"],
      // Real servers and several OS processes share 2 cores with other work: allow for it.
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  }),
);
