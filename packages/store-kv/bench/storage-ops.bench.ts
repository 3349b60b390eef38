// Storage operations per resolve over realistic conversations:
// `pnpm --filter @threadline/store-kv bench [-- --rounds 5 --conversations 20]`.
// Bundles bench/worker.ts and runs it in workerd through Miniflare (KV and Durable Objects fully
// local). Each round replays a new seeded set of conversations against every store, in an order
// that rotates per round; the table gives the median with min–max over rounds of KV or Durable
// Object storage reads and writes per resolve (writes also as a ratio to the naive KV store of
// the same round). Counts, not times: Miniflare's timings say nothing about Cloudflare's, and the
// Durable Object run makes extra requests to fire its simulated alarms.

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fixed, printTable, spread } from "@threadline/bench-kit";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { type BenchRow, STORES } from "./worker.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"), // pnpm may pass the separator through
  options: { rounds: { type: "string", default: "5" }, conversations: { type: "string", default: "20" } },
});
const rounds = Number(values.rounds);
const conversations = Number(values.conversations);

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
  const results: BenchRow[][] = STORES.map(() => []);
  try {
    for (let round = 0; round < rounds; round++) {
      for (let step = 0; step < STORES.length; step++) {
        const store = (round + step) % STORES.length; // interleaved: each store takes every position
        const url = `http://bench/run?store=${store}&seed=${round + 1}&conversations=${conversations}`;
        const response = await miniflare.dispatchFetch(url);
        if (!response.ok) throw new Error(`bench worker answered ${response.status}: ${await response.text()}`);
        results[store]?.push((await response.json()) as BenchRow);
      }
    }
  } finally {
    await miniflare.dispose();
  }
  print(results);
}

function print(results: BenchRow[][]): void {
  const naive = results[0] ?? [];
  const resolves = naive.map((row) => row.resolves);
  console.log(
    `\n@threadline/store-kv — ${rounds} interleaved rounds of ${conversations} conversations (one message every 5–20 s for` +
      `\n10 minutes, then silence; ${spread(resolves, fixed(0))} resolves per round), inactivity timeout 120 s,` +
      "\nrun in workerd (Miniflare). Median (min–max) over rounds.\n",
  );
  const rows = results.map((rounds, store) => {
    const perResolve = (count: (row: BenchRow) => number) =>
      spread(
        rounds.map((row) => count(row) / row.resolves),
        fixed(3),
      );
    const vsNaive = rounds.map((row, round) => row.writes / (naive[round]?.writes ?? Number.NaN));
    const requests = `${perResolve((row) => row.requests)} + ${perResolve((row) => row.alarmRuns)} alarms`;
    return [
      STORES[store] as string,
      perResolve((row) => row.reads),
      perResolve((row) => row.writes),
      spread(vsNaive, fixed(2, "×")),
      STORES[store] === "durable-object" ? requests : "",
      spread(
        rounds.map((row) => row.sessionsPerConversation),
        fixed(2),
      ),
    ];
  });
  const headers = ["store", "reads / resolve", "writes / resolve", "writes vs naive KV", "object requests / resolve"];
  printTable([...headers, "ids / conversation"], rows);
  console.log();
}

await main();
