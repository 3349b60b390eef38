// What the handler and the config helper cost per invoke: `pnpm --filter @threadline/langchain bench`.
// Every variant runs the same runnable in the same process, interleaved round by round, and
// is compared with that runnable with nothing attached (no callbacks at all, so LangChain skips
// its callback machinery). A no-op LangChain handler row separates LangChain's own cost of
// having any handler from threadline's. Timings include `flush()`/`awaitAllCallbacks()`, so
// background callback work is paid for inside the measurement. Memory store, 1,000 users.

import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { type Runnable, type RunnableConfig, RunnableLambda } from "@langchain/core/runnables";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { median, printTable } from "@threadline/bench-kit";
import { SessionManager } from "@threadline/session-core";
import { sessionConfig, ThreadlineCallbackHandler } from "../src/index.js";

const USERS = 1_000;
const BATCH = 500;
const ROUNDS = 15;
const userIds = Array.from({ length: USERS }, (_, index) => `user-${index}`);

class NoopHandler extends BaseCallbackHandler {
  name = "noop";
}

type Variant = {
  name: string;
  /** Runs `BATCH` invokes one after another and waits for their callbacks. */
  batch(runnable: Runnable<string, unknown>, offset: number): Promise<void>;
};

function variants(): Variant[] {
  const noop = new NoopHandler();
  const handler = new ThreadlineCallbackHandler({ onRecord: () => {} });
  const manager = new SessionManager();
  const plain = (configFor: (userId: string) => RunnableConfig | Promise<RunnableConfig> | undefined) => {
    return async (runnable: Runnable<string, unknown>, offset: number) => {
      for (let index = 0; index < BATCH; index++) {
        const userId = userIds[(offset + index) % USERS] as string;
        await runnable.invoke("hello", await configFor(userId));
      }
    };
  };
  return [
    { name: "nothing attached (baseline)", batch: plain(() => undefined) },
    {
      name: "no-op LangChain handler",
      batch: async (runnable, offset) => {
        await plain((userId) => ({ callbacks: [noop], metadata: { user_id: userId } }))(runnable, offset);
        await awaitAllCallbacks();
      },
    },
    {
      name: "threadline handler (metadata user_id)",
      batch: async (runnable, offset) => {
        await plain((userId) => ({ callbacks: [handler], metadata: { user_id: userId } }))(runnable, offset);
        await handler.flush();
      },
    },
    {
      name: "sessionConfig(handler) + handler",
      batch: async (runnable, offset) => {
        await plain((userId) => sessionConfig(handler, { userId }))(runnable, offset);
        await handler.flush();
      },
    },
    { name: "sessionConfig(manager), no handler", batch: plain((userId) => sessionConfig(manager, { userId })) },
  ];
}

function runnables(): { name: string; runnable: Runnable<string, unknown> }[] {
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "You are brief."],
    ["human", "{question}"],
  ]);
  const model = new FakeListChatModel({ responses: ["hi", "hello", "hey"] });
  return [
    { name: "RunnableLambda", runnable: RunnableLambda.from((text: string) => text.length) },
    {
      name: "prompt | fake chat model | parser",
      runnable: RunnableLambda.from((question: string) => ({ question }))
        .pipe(prompt)
        .pipe(model)
        .pipe(new StringOutputParser()),
    },
  ];
}

async function measure(runnable: Runnable<string, unknown>): Promise<Map<string, number>> {
  const all = variants();
  const samples = new Map<string, number[]>(all.map((variant) => [variant.name, []]));
  // Warm up every variant (JIT, sessions created), then interleave rounds so drift hits all alike.
  for (const variant of all) await variant.batch(runnable, 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of all) {
      const started = performance.now();
      await variant.batch(runnable, round * BATCH);
      samples.get(variant.name)?.push(((performance.now() - started) * 1000) / BATCH);
    }
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

async function main(): Promise<void> {
  console.log(
    `\n@threadline/langchain — per-invoke cost, memory store, median of ${ROUNDS} rounds × ${BATCH} invokes\n`,
  );
  const rows: string[][] = [];
  for (const { name, runnable } of runnables()) {
    const results = await measure(runnable);
    const baseline = results.get("nothing attached (baseline)") ?? Number.NaN;
    const noop = results.get("no-op LangChain handler") ?? Number.NaN;
    for (const [variant, micros] of results) {
      const withHandler = variant.startsWith("threadline handler") || variant.startsWith("sessionConfig(handler)");
      rows.push([
        name,
        variant,
        `${micros.toFixed(1)} µs`,
        `${(micros / baseline).toFixed(2)}×`,
        variant.startsWith("nothing") ? "" : `${(micros - baseline).toFixed(1)} µs`,
        withHandler ? `${(micros - noop).toFixed(1)} µs` : "",
      ]);
    }
  }
  printTable(["runnable", "attached", "per invoke", "vs baseline", "added", "added beyond a no-op handler"], rows);
}

await main();
