import { defineConfig } from "tsdown";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    "testing/index": "src/testing/index.ts",
    // The fake clock alone, without vitest: for demos that simulate time.
    "testing/fake-clock": "src/testing/fake-clock.ts",
  },
  format: "esm",
  platform: "neutral",
  dts: true,
  external: ["vitest", "fast-check"],
});
