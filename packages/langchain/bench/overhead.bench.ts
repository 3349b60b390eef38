// What the handler and the config helper cost per invoke: `pnpm --filter @threadline/langchain bench`.
// Every variant runs the same runnable with the same input in the same process, interleaved round
// by round, and is compared with that runnable with nothing attached (no callbacks at all, so
// LangChain skips its callback machinery) in the same round. A no-op LangChain handler row
// separates LangChain's own cost of having any handler from threadline's. Timings include
// `flush()`/`awaitAllCallbacks()`, so background callback work is paid for inside the measurement.
// Memory store, 1,000 users. Every figure is a median over the rounds with its min–max.

import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { type Runnable, type RunnableConfig, RunnableLambda } from "@langchain/core/runnables";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { fixed, perRound, printTable, spread } from "@threadline/bench-kit";
import { SessionManager } from "@threadline/session-core";
import { sessionConfig, ThreadlineCallbackHandler } from "../src/index.js";

const USERS = 1_000;
const BATCH = 300;
const ROUNDS = 15;
const BASELINE = "nothing attached (baseline)";
const NOOP = "no-op LangChain handler";
const userIds = Array.from({ length: USERS }, (_, index) => `user-${index}`);

class NoopHandler extends BaseCallbackHandler {
  name = "noop";
}

type Subject = { name: string; runnable: Runnable<string, unknown>; input: string };

type Variant = {
  name: string;
  /** Runs `BATCH` invokes one after another and waits for their callbacks. */
  batch(subject: Subject, offset: number): Promise<void>;
};

function variants(): Variant[] {
  const noop = new NoopHandler();
  const handler = new ThreadlineCallbackHandler({ onRecord: () => {} });
  const manager = new SessionManager();
  const sequential = (configFor: (userId: string) => RunnableConfig | Promise<RunnableConfig> | undefined) => {
    return async ({ runnable, input }: Subject, offset: number) => {
      for (let index = 0; index < BATCH; index++) {
        const userId = userIds[(offset + index) % USERS] as string;
        await runnable.invoke(input, await configFor(userId));
      }
    };
  };
  return [
    { name: BASELINE, batch: sequential(() => undefined) },
    {
      name: NOOP,
      batch: async (subject, offset) => {
        await sequential((userId) => ({ callbacks: [noop], metadata: { user_id: userId } }))(subject, offset);
        await awaitAllCallbacks();
      },
    },
    {
      name: "threadline handler (metadata user_id)",
      batch: async (subject, offset) => {
        await sequential((userId) => ({ callbacks: [handler], metadata: { user_id: userId } }))(subject, offset);
        await handler.flush();
      },
    },
    {
      name: "sessionConfig(handler) + handler",
      batch: async (subject, offset) => {
        await sequential((userId) => sessionConfig(handler, { userId }))(subject, offset);
        await handler.flush();
      },
    },
    { name: "sessionConfig(manager), no handler", batch: sequential((userId) => sessionConfig(manager, { userId })) },
  ];
}

function subjects(): Subject[] {
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "You are brief."],
    ["human", "{question}"],
  ]);
  const model = new FakeListChatModel({ responses: ["hi", "hello", "hey"] });
  const lambda = RunnableLambda.from((text: string) => text.length);
  return [
    { name: "RunnableLambda", runnable: lambda, input: "hello" },
    // Above the handler's maxValueLength (16,384), so the record keeps a cut copy.
    { name: "RunnableLambda, 100 KB input", runnable: lambda, input: "x".repeat(100_000) },
    {
      name: "prompt → fake chat model → parser",
      runnable: RunnableLambda.from((question: string) => ({ question }))
        .pipe(prompt)
        .pipe(model)
        .pipe(new StringOutputParser()),
      input: "hello",
    },
  ];
}

/** Per-invoke µs of every variant in every round, rounds interleaved so drift hits all variants alike. */
async function measure(subject: Subject): Promise<Map<string, number[]>> {
  const all = variants();
  const samples = new Map<string, number[]>(all.map((variant) => [variant.name, []]));
  for (const variant of all) await variant.batch(subject, 0); // warm-up: JIT, sessions created
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of all) {
      const started = performance.now();
      await variant.batch(subject, round * BATCH);
      samples.get(variant.name)?.push(((performance.now() - started) * 1000) / BATCH);
    }
  }
  return samples;
}

const micros = fixed(1, " µs");

async function main(): Promise<void> {
  console.log(
    `\n@threadline/langchain — µs per invoke, memory store, median (min–max) of ${ROUNDS} interleaved rounds × ${BATCH} invokes\n`,
  );
  const rows: string[][] = [];
  for (const subject of subjects()) {
    const samples = await measure(subject);
    const baseline = samples.get(BASELINE) ?? [];
    const noop = samples.get(NOOP) ?? [];
    for (const [variant, values] of samples) {
      const withHandler = variant.startsWith("threadline handler") || variant.startsWith("sessionConfig(handler)");
      const isBaseline = variant === BASELINE;
      rows.push([
        subject.name,
        variant,
        spread(values, micros),
        isBaseline ? "1.00×" : spread(perRound(values, baseline), fixed(2, "×")),
        isBaseline
          ? ""
          : spread(
              perRound(values, baseline, (value, base) => value - base),
              micros,
            ),
        withHandler
          ? spread(
              perRound(values, noop, (value, base) => value - base),
              micros,
            )
          : "",
      ]);
    }
  }
  printTable(["runnable", "attached", "per invoke", "vs baseline", "added", "added beyond a no-op handler"], rows);
}

await main();
