// Storage operations per resolve over realistic conversations: `pnpm --filter @threadline/store-kv bench`.
// Bundles bench/worker.ts, runs it in workerd through Miniflare (KV and Durable Objects
// fully local) and prints, per store, KV or Durable Object storage reads and writes per
// resolve, with writes as a ratio to the naive KV store measured in the same run.

import { fileURLToPath } from "node:url";
import { printTable } from "@threadline/bench-kit";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import type { BenchRow } from "./worker.js";

const workerPath = fileURLToPath(new URL("./worker.ts", import.meta.url));

async function main(): Promise<void> {
  const bundle = await build({
    entryPoints: [workerPath],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["threadline-source"],
    write: false,
    logLevel: "warning",
  });
  const script = bundle.outputFiles[0]?.text;
  if (script === undefined) throw new Error("esbuild produced no output");

  const miniflare = new Miniflare({
    modules: true,
    script,
    compatibilityDate: "2026-04-01",
    kvNamespaces: ["SESSIONS"],
    durableObjects: { BENCH_OBJECTS: "CountingSessionObject" },
  });
  try {
    const response = await miniflare.dispatchFetch("http://bench/run?seed=1");
    if (!response.ok) throw new Error(`bench worker answered ${response.status}: ${await response.text()}`);
    const result = (await response.json()) as { conversations: number; messages: number; rows: BenchRow[] };
    print(result);
  } finally {
    await miniflare.dispose();
  }
}

function print(result: { conversations: number; messages: number; rows: BenchRow[] }): void {
  const naive = result.rows[0];
  if (naive === undefined) throw new Error("no rows");
  const perResolve = (count: number, row: BenchRow) => (count / row.resolves).toFixed(3);
  console.log(
    `\n@threadline/store-kv — ${result.conversations} conversations, one message every 5–20 s for 10 minutes, then silence;` +
      `\n${result.messages} resolves per store, inactivity timeout 120 s, run in workerd (Miniflare)\n`,
  );
  const rows = result.rows.map((row) => [
    row.store,
    perResolve(row.reads, row),
    perResolve(row.writes, row),
    `${(row.writes / naive.writes).toFixed(2)}×`,
    row.requests === 0 ? "" : `${perResolve(row.requests, row)} (+${row.alarmRuns} alarm runs)`,
    row.sessionsPerConversation.toFixed(2),
  ]);
  printTable(
    [
      "store",
      "reads / resolve",
      "writes / resolve",
      "writes vs naive KV",
      "object requests / resolve",
      "ids / conversation",
    ],
    rows,
  );
  console.log();
}

await main();
