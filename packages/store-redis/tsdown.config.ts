import { defineConfig } from "tsdown";

// @threadline/session-core is a peer dependency, which tsdown leaves external; the Redis
// clients are never imported (the store recognises them by shape). Platform "node" for
// node:crypto, which hashes the Lua scripts once at load.
export default defineConfig({
  // ./testing: real redis-server processes on free loopback ports, for your tests.
  entry: { index: "src/index.ts", "testing/index": "src/testing/index.ts" },
  format: "esm",
  platform: "node",
  fixedExtension: false,
  dts: true,
});
