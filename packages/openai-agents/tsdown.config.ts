import { defineConfig } from "tsdown";

// @openai/agents and @threadline/session-core are peer dependencies, which tsdown leaves external.
export default defineConfig({
  entry: { index: "src/index.ts" },
  format: "esm",
  platform: "neutral",
  dts: true,
});
