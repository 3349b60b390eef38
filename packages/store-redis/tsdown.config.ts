import { defineConfig } from "tsdown";

// @threadline/session-core is a peer dependency, which tsdown leaves external; the Redis
// clients are never imported (the store recognises them by shape). Platform "node" for
// node:crypto, which hashes the Lua scripts once at load.
export default defineConfig({
  entry: { index: "src/index.ts" },
  format: "esm",
  platform: "node",
  fixedExtension: false,
  dts: true,
});
