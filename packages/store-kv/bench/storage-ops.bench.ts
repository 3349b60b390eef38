// Storage operations per resolve over realistic conversations:
// `pnpm --filter @threadline/store-kv bench [-- --rounds 5 --conversations 20]`.
// Bundles bench/worker.ts and runs it in workerd through Miniflare (KV and Durable Objects fully
// local). Each round replays a new seeded set of conversations against every store, in an order
// that rotates per round; the table gives the median with min–max over rounds of KV or Durable
// Object storage reads and writes per resolve (writes also as a ratio to the naive KV store of
// the same round) and the wall time per resolve in Miniflare.

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { median, printTable } from "@threadline/bench-kit";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { type BenchRow, STORES } from "./worker.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, conversations: { type: "string", default: "20" } },
});
const rounds = Number(values.rounds);
const conversations = Number(values.conversations);

interface Measured extends BenchRow {
  ms: number;
}

async function main(): Promise<void> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("./worker.ts", import.meta.url))],
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
  const results: Measured[][] = STORES.map(() => []);
  try {
    for (let round = 0; round < rounds; round++) {
      for (let step = 0; step < STORES.length; step++) {
        const store = (round + step) % STORES.length; // interleaved: each store takes every position
        const started = performance.now();
        const url = `http://bench/run?store=${store}&seed=${round + 1}&conversations=${conversations}`;
        const response = await miniflare.dispatchFetch(url);
        if (!response.ok) throw new Error(`bench worker answered ${response.status}: ${await response.text()}`);
        const row = (await response.json()) as BenchRow;
        results[store]?.push({ ...row, ms: performance.now() - started });
      }
    }
  } finally {
    await miniflare.dispose();
  }
  print(results);
}

/** `median (min–max)` of `values`, with `digits` decimals. */
function spread(values: number[], digits: number): string {
  const format = (value: number) => value.toFixed(digits);
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

function print(results: Measured[][]): void {
  const naive = results[0] ?? [];
  const resolves = naive.map((row) => row.resolves);
  console.log(
    `\n@threadline/store-kv — ${rounds} interleaved rounds of ${conversations} conversations (one message every 5–20 s for` +
      `\n10 minutes, then silence; ${Math.min(...resolves)}–${Math.max(...resolves)} resolves per round), inactivity timeout 120 s,` +
      "\nrun in workerd (Miniflare) on this machine. Median (min–max) over rounds.\n",
  );
  const rows = results.map((rounds, store) => {
    const per = (count: (row: Measured) => number) => rounds.map((row) => count(row) / row.resolves);
    const isObject = STORES[store] === "durable-object";
    return [
      STORES[store] as string,
      spread(
        per((row) => row.reads),
        3,
      ),
      spread(
        per((row) => row.writes),
        3,
      ),
      `${spread(
        rounds.map((row, round) => row.writes / (naive[round]?.writes ?? Number.NaN)),
        2,
      )}×`,
      isObject
        ? `${spread(
            per((row) => row.requests),
            3,
          )} + ${spread(
            per((row) => row.alarmRuns),
            3,
          )} alarms`
        : "",
      spread(
        rounds.map((row) => row.sessionsPerConversation),
        2,
      ),
      spread(
        per((row) => row.ms),
        2,
      ),
    ];
  });
  printTable(
    [
      "store",
      "reads / resolve",
      "writes / resolve",
      "writes vs naive KV",
      "object requests / resolve",
      "ids / conversation",
      "ms / resolve (Miniflare)",
    ],
    rows,
  );
  console.log();
}

await main();
