// What records cost an invoke: `pnpm --filter @threadline/langchain bench:records`.
// The same runnable (prompt → fake chat model → parser) with the threadline handler, in the same
// process; the variants take turns batch by batch (100 invokes), in an order that rotates each
// round, so drift and other load on the machine hit all alike. The baseline is the handler without `onRecord` (so it builds
// no record); each other row adds one thing to that same invoke: building the record and handing
// it to a record sink (`onRecord: sink.add`) whose backend takes batches at once, or never answers
// (a stalled backend), or keeping the record with the session (`keepRunRecords`, memory store).
// Each batch is timed with the `handler.flush()` after it, so LangChain's background callbacks and
// the handler's work are paid for inside the measurement. A round is the mean of its invokes; "added"
// is the median of the per-round differences to the baseline, with its min–max: never a best round.

import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { type Runnable, RunnableLambda } from "@langchain/core/runnables";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { fixed, median, printTable, type StalledSink, spread, stalledRecordSink } from "@threadline/bench-kit";
import { createRecordSink, type RecordSink } from "@threadline/session-core";
import { ThreadlineCallbackHandler, type ThreadlineCallbackHandlerOptions } from "../src/index.js";

const USERS = 1_000;
const BATCH = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 150);
/** The stalled sink's bound: small enough that the invokes fill it in the first rounds. */
const MAX_BUFFER = 1_000;
const userIds = Array.from({ length: USERS }, (_, index) => `user-${index}`);

const BASELINE = "handler, no onRecord (baseline)";
const SINK = "onRecord: sink.add, backend answers at once";
const STALLED = "onRecord: sink.add, backend stalled (never answers)";
const KEEP = "keepRunRecords: true (memory store), no sink";

function subject(): Runnable<string, string> {
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "You are brief."],
    ["human", "{question}"],
  ]);
  const model = new FakeListChatModel({ responses: ["hi", "hello", "hey"] });
  return RunnableLambda.from((question: string) => ({ question }))
    .pipe(prompt)
    .pipe(model)
    .pipe(new StringOutputParser());
}

function variants(): {
  all: { name: string; handler: ThreadlineCallbackHandler }[];
  sinks: RecordSink[];
  stalled: StalledSink<RecordSink>;
} {
  const on = (name: string, options: ThreadlineCallbackHandlerOptions) => ({
    name,
    handler: new ThreadlineCallbackHandler({ namespace: "bench", ...options }),
  });
  const sink = createRecordSink({ deliver: async () => {} });
  const stalled = stalledRecordSink(createRecordSink, MAX_BUFFER);
  const stalledSink = stalled.sink;
  return {
    all: [
      on(BASELINE, {}),
      on(SINK, { onRecord: sink.add }),
      on(STALLED, { onRecord: stalledSink.add }),
      on(KEEP, { keepRunRecords: true }),
    ],
    sinks: [sink, stalledSink],
    stalled,
  };
}

async function main(): Promise<void> {
  const runnable = subject();
  const { all, sinks, stalled } = variants();
  const samples = all.map(() => [] as number[]);
  // Round 0 warms up (JIT, first sessions) and is not kept. Each round runs every variant's batch
  // once, in an order that rotates, so drift and other load on the machine hit all alike.
  for (let round = 0; round <= ROUNDS; round++) {
    for (let step = 0; step < all.length; step++) {
      const which = (round + step) % all.length;
      const { handler } = all[which] as (typeof all)[number];
      const started = performance.now();
      for (let index = 0; index < BATCH; index++) {
        const userId = userIds[(round * BATCH + index) % USERS] as string;
        await runnable.invoke("hello", { callbacks: [handler], metadata: { user_id: userId } });
      }
      await handler.flush();
      if (round > 0) samples[which]?.push(((performance.now() - started) * 1000) / BATCH);
    }
    stalled.observe();
  }
  const invokes = (ROUNDS + 1) * BATCH;

  console.log(
    `\n@threadline/langchain — what records add per invoke (prompt → fake chat model → parser); median (min–max) over ${ROUNDS} interleaved rounds × ${BATCH} invokes\n`,
  );
  const baseline = samples[0] ?? [];
  printTable(
    ["variant", "µs per invoke", "added µs per invoke"],
    all.map((variant, index) => {
      const own = samples[index] ?? [];
      const added = own.map((micros, round) => micros - (baseline[round] ?? Number.NaN));
      return [variant.name, spread(own, fixed(1)), index === 0 ? "" : spread(added, fixed(1))];
    }),
  );
  const medianOf = (name: string) => median(samples[all.findIndex((variant) => variant.name === name)] ?? []);
  console.log(
    `\nStalled backend: ${invokes} invokes went on at ${(medianOf(STALLED) / medianOf(SINK)).toFixed(2)}× the per-invoke time of the answering one; the sink held at most ${stalled.stats.largestSize} records (maxBuffer ${MAX_BUFFER}), ${stalled.stats.pendingDeliveries} delivery still waiting, ${stalled.stats.dropped} records reported dropped (invokes − held = ${invokes - stalled.sink.size}).`,
  );
  await Promise.all(sinks.map((sink) => sink.shutdown()));
  console.log(`\nNode ${process.version}, ${process.platform}/${process.arch}`);
}

await main();
