import { defineConfig } from "tsdown";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    // Kits for people writing an adapter or a store (ours use them too).
    "adapter-kit/index": "src/adapter-kit/index.ts",
    "store-kit/index": "src/store-kit/index.ts",
    "testing/index": "src/testing/index.ts",
    // The fake clock alone, without vitest: for demos that simulate time.
    "testing/fake-clock": "src/testing/fake-clock.ts",
  },
  format: "esm",
  platform: "neutral",
  dts: true,
  external: ["vitest", "fast-check"],
});
