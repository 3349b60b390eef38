import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

// Two projects: the Node tests (app.request and a real @hono/node-server), and the same
// middleware inside workerd (Miniflare), with KV and Durable Object bindings.
export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      projects: [
        {
          extends: true,
          test: { name: "node", exclude: ["**/node_modules/**", "test/workerd/**"] },
        },
        {
          extends: true,
          plugins: [
            cloudflareTest({
              main: "./test/workerd/worker.ts",
              miniflare: {
                compatibilityDate: "2026-04-01",
                compatibilityFlags: ["nodejs_compat"],
                kvNamespaces: ["SESSIONS"],
                durableObjects: { SESSION_OBJECTS: "ThreadlineSessionObject" },
              },
            }),
          ],
          // `include` would be appended to the shared one, so the Node-only files are excluded instead.
          test: { name: "workerd", exclude: ["**/node_modules/**", "test/*.test.ts"] },
        },
      ],
    },
  }),
);
