// The test settings every package shares: run from source through the `threadline-source`
// export condition (no build needed), and leave a JSON report per package so the root test
// command can print one total for the whole workspace.
import { basename } from "node:path";
import { defineConfig } from "vitest/config";

const packageName = basename(process.cwd());

export const sourceConditions: string[] = ["threadline-source"];

export const sharedConfig = defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // CI machines have two cores and run several packages' tests at once: generous limits keep
    // a slow moment from failing a correct test (no test waits on time: clocks are injected).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "json"],
    outputFile: { json: `../../.test-results/${packageName}.json` },
  },
});
