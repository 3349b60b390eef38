import { defineConfig } from "tsdown";

// hono and @threadline/session-core are peer dependencies, which tsdown leaves external.
export default defineConfig({
  entry: { index: "src/index.ts" },
  format: "esm",
  platform: "neutral",
  dts: true,
});
