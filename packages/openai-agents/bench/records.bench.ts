// What records cost a run: `pnpm turbo run build --filter=@threadline/openai-agents...` then
// `pnpm --filter @threadline/openai-agents bench:records`.
// The same agent on the real Runner with the hooks attached, in the same process, interleaved
// run by run (the order rotates every run). The baseline is the run with the hooks and no
// `onRecord` (so no record is built at all); each other row adds one thing to that same run:
// building the record and handing it to a record sink (`onRecord: sink.add`) whose backend takes
// batches at once, or never answers (a stalled backend), or keeping the record with the session
// (`keepRunRecords`, memory store). "added" is the median of the per-round differences to the
// baseline measured in the same round, with its min–max: never a best round. Each run is timed
// with its `hooks.flush()`, so the background work is paid for inside the measurement. The model
// answers at once; tracing is off (it would cost every row alike). Imports the BUILT packages
// (tsx's keepNames would distort the library's closures).

import { Agent, type Model, type ModelResponse, Runner, setTracingDisabled, Usage } from "@openai/agents";
import { assistantMessage } from "@openai/agents/testing";
import { fixed, median, printTable, type StalledSink, spread, stalledRecordSink } from "@threadline/bench-kit";
import { SessionHooks } from "@threadline/openai-agents";
import { createRecordSink, type RecordSink } from "@threadline/session-core";

const USERS = 1_000;
const BATCH = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
/** The stalled sink's bound: small enough that the runs fill it in the first rounds. */
const MAX_BUFFER = 1_000;
const userIds = Array.from({ length: USERS }, (_, index) => `user-${index}`);

/** Answers every request at once; the same model for every variant. */
const instantModel: Model = {
  async getResponse(): Promise<ModelResponse> {
    return {
      output: [assistantMessage("Happy to help.")],
      usage: new Usage({ requests: 1, inputTokens: 12, outputTokens: 4, totalTokens: 16 }),
    };
  },
  // biome-ignore lint/correctness/useYield: never called; the benchmark does not stream.
  async *getStreamedResponse() {
    throw new Error("not used");
  },
};

const BASELINE = "hooks, no onRecord (baseline)";
const SINK = "onRecord: sink.add, backend answers at once";
const STALLED = "onRecord: sink.add, backend stalled (never answers)";
const KEEP = "keepRunRecords: true (memory store), no sink";

interface Variant {
  name: string;
  hooks: SessionHooks;
  runner: Runner;
}

function variants(): { all: Variant[]; sinks: RecordSink[]; stalled: StalledSink<RecordSink> } {
  const on = (name: string, options: ConstructorParameters<typeof SessionHooks>[0]): Variant => {
    const runner = new Runner();
    return { name, runner, hooks: new SessionHooks({ namespace: "bench", ...options }).attach(runner) };
  };
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

/** One run and the background work it left (`hooks.flush()`), in µs. */
async function timedRun(variant: Variant, agent: Agent, userId: string): Promise<number> {
  const started = performance.now();
  await variant.runner.run(agent, "Hello", { context: { userId } });
  await variant.hooks.flush();
  return (performance.now() - started) * 1000;
}

async function main(): Promise<void> {
  setTracingDisabled(true);
  const agent = new Agent({ name: "Support Bot", instructions: "You are helpful.", model: instantModel });
  const { all, sinks, stalled } = variants();
  const samples = all.map(() => [] as number[]);
  // Round 0 warms up (JIT, first sessions) and is not kept. Within a round the variants take turns
  // run by run, in an order that rotates, so drift and other load on the machine hit all alike.
  for (let round = 0; round <= ROUNDS; round++) {
    const totals = all.map(() => 0);
    for (let index = 0; index < BATCH; index++) {
      const userId = userIds[(round * BATCH + index) % USERS] as string;
      for (let step = 0; step < all.length; step++) {
        const which = (index + step) % all.length;
        totals[which] = (totals[which] ?? 0) + (await timedRun(all[which] as Variant, agent, userId));
      }
    }
    if (round > 0) {
      for (const [which, total] of totals.entries()) samples[which]?.push(total / BATCH);
    }
    stalled.observe();
  }
  const runs = (ROUNDS + 1) * BATCH;

  console.log(
    `\n@threadline/openai-agents — what records add per run on the real Runner, instant model; median (min–max) over ${ROUNDS} interleaved rounds × ${BATCH} runs\n`,
  );
  const baseline = samples[0] ?? [];
  printTable(
    ["variant", "µs per run", "added µs per run"],
    all.map((variant, index) => {
      const own = samples[index] ?? [];
      const added = own.map((micros, round) => micros - (baseline[round] ?? Number.NaN));
      return [variant.name, spread(own, fixed(1)), index === 0 ? "" : spread(added, fixed(1))];
    }),
  );
  const medianOf = (name: string) => median(samples[all.findIndex((variant) => variant.name === name)] ?? []);
  console.log(
    `\nStalled backend: ${runs} runs went on at ${(medianOf(STALLED) / medianOf(SINK)).toFixed(2)}× the per-run time of the answering one; the sink held at most ${stalled.stats.largestSize} records (maxBuffer ${MAX_BUFFER}), ${stalled.stats.pendingDeliveries} delivery still waiting, ${stalled.stats.dropped} records reported dropped (runs − held = ${runs - stalled.sink.size}).`,
  );
  await Promise.all(sinks.map((sink) => sink.shutdown()));
  console.log(`\nNode ${process.version}, ${process.platform}/${process.arch}`);
}

await main();
