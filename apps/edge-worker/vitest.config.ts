import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

// The Worker runs inside workerd (Miniflare) with the bindings wrangler.toml declares.
export default mergeConfig(
  sharedConfig,
  defineConfig({
    plugins: [
      cloudflareTest({
        main: "./src/worker.ts",
        miniflare: {
          compatibilityDate: "2026-04-01",
          compatibilityFlags: ["nodejs_compat"],
          kvNamespaces: ["SESSIONS"],
          durableObjects: { SESSION_OBJECTS: "ThreadlineSessionObject" },
          bindings: { JWT_SECRET: "test-jwt-secret" },
        },
      }),
    ],
  }),
);
