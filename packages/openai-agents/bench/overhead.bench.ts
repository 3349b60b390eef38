// What the hooks and the run wrapper cost per run: `pnpm --filter @threadline/openai-agents bench`.
// Every variant runs the same agent on the real Runner in the same process, interleaved round by
// round, and is compared with the run with nothing attached measured in the same rounds: each
// row is the median over rounds with the min–max range, and "added" is the median of the
// per-round differences to the baseline (never a best round). The model answers instantly, so
// what is left is the SDK's own run loop plus what threadline adds. Tracing is off (it would cost
// every variant alike). Memory store; 1,000 users in turn; conversations of 4 turns (the clock
// jumps past the timeout every 4 rounds of users), so memory histories stay as short as real ones.
// A reference row gives the SDK's own in-process `MemorySession` the same conversations.
// Imports the BUILT packages (tsx's keepNames would distort the library's closures).

import {
  Agent,
  type AgentInputItem,
  MemorySession,
  type Model,
  type ModelResponse,
  Runner,
  type Session,
  setTracingDisabled,
  Usage,
} from "@openai/agents";
import { assistantMessage } from "@openai/agents/testing";
import { fixed, median, printTable, spread } from "@threadline/bench-kit";
import { SessionHooks, SessionMemory } from "@threadline/openai-agents";
import { SessionManager } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/fake-clock";

const USERS = 1_000;
const TURNS_PER_CONVERSATION = 4;
const BATCH = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
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

interface Variant {
  name: string;
  /** Runs `BATCH` runs one after another (users in turn from `offset`) and waits for background work. */
  batch(offset: number): Promise<void>;
}

function variants(): Variant[] {
  const agent = new Agent({ name: "Support Bot", instructions: "You are helpful.", model: instantModel });
  const clock = createFakeClock();
  let conversationClock = 0;
  /** Every TURNS_PER_CONVERSATION passes over all users, sessions expire and conversations restart. */
  const tick = (runIndex: number) => {
    const conversation = Math.floor(runIndex / (USERS * TURNS_PER_CONVERSATION));
    if (conversation !== conversationClock) {
      conversationClock = conversation;
      clock.advance(121);
    }
  };
  const each = (run: (userId: string, runIndex: number) => Promise<unknown>) => async (offset: number) => {
    for (let index = 0; index < BATCH; index++) {
      const runIndex = offset + index;
      await run(userIds[runIndex % USERS] as string, runIndex);
    }
  };

  const plainRunner = new Runner();
  const hooksRunner = new Runner();
  const hooks = new SessionHooks({ namespace: "bench", now: clock.now, onRecord: () => {} }).attach(hooksRunner);
  const wrapperRunner = new Runner();
  const wrapper = new SessionHooks({ namespace: "bench", now: clock.now, onRecord: () => {} }).attach(wrapperRunner);
  const sdkMemoryRunner = new Runner();
  const sdkMemories = new Map<string, { conversation: number; session: MemorySession }>();

  return [
    { name: "runner.run, nothing attached (baseline)", batch: each(() => plainRunner.run(agent, "Hello")) },
    {
      name: "hooks attached, context.userId",
      batch: async (offset) => {
        await each((userId) => hooksRunner.run(agent, "Hello", { context: { userId } }))(offset);
        await hooks.flush();
      },
    },
    {
      name: "hooks.run(), memory off",
      batch: async (offset) => {
        await each((userId) => wrapper.run(agent, "Hello", { userId, memory: false }))(offset);
        await wrapper.flush();
      },
    },
    {
      name: "hooks.run(), memory on (memory store)",
      batch: async (offset) => {
        await each((userId, runIndex) => {
          tick(runIndex);
          return wrapper.run(agent, "Hello", { userId });
        })(offset);
        await wrapper.flush();
      },
    },
    {
      name: "reference: runner.run + SDK MemorySession",
      batch: each((userId, runIndex) => {
        const conversation = Math.floor(runIndex / (USERS * TURNS_PER_CONVERSATION));
        let memory = sdkMemories.get(userId);
        if (memory === undefined || memory.conversation !== conversation) {
          memory = { conversation, session: new MemorySession() };
          sdkMemories.set(userId, memory);
        }
        return sdkMemoryRunner.run(agent, "Hello", { session: memory.session });
      }),
    },
  ];
}

/** Per-round µs per run of each variant, rounds interleaved. */
async function measure(): Promise<Map<string, number[]>> {
  const all = variants();
  const samples = all.map(() => [] as number[]);
  // Warm up every variant (JIT, first sessions), then interleave short rounds so drift hits all
  // alike; the order rotates each round so no variant always runs right after another.
  for (const variant of all) await variant.batch(0);
  for (let round = 1; round <= ROUNDS; round++) {
    for (let step = 0; step < all.length; step++) {
      const index = (round + step) % all.length;
      const started = performance.now();
      await all[index]?.batch(round * BATCH);
      samples[index]?.push(((performance.now() - started) * 1000) / BATCH);
    }
  }
  return new Map(all.map((variant, index) => [variant.name, samples[index] ?? []]));
}

/**
 * The memory's own work without the Runner around it: per conversation turn, read the history
 * and append the turn's two items, conversations of 4 turns. Threadline's includes resolving the
 * session once per conversation through the SessionManager.
 */
async function memoryAlone(): Promise<Map<string, number[]>> {
  const manager = new SessionManager();
  const turnItems = [
    { role: "user", content: "Hello" },
    {
      type: "message",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: "Happy to help." }],
    },
  ] satisfies AgentInputItem[];
  let conversations = 0;
  const variants: [string, () => Promise<Session>][] = [
    ["SDK MemorySession", async () => new MemorySession()],
    [
      "threadline SessionMemory (memory store)",
      async () =>
        new SessionMemory({ sessionManager: manager, session: await manager.resolve(`user-${conversations++}`) }),
    ],
  ];
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  // Round 0 warms up and is not kept; the order alternates so neither always runs first.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, open] of round % 2 === 0 ? variants : [...variants].reverse()) {
      const started = performance.now();
      for (let conversation = 0; conversation < BATCH; conversation++) {
        const memory = await open();
        for (let turn = 0; turn < TURNS_PER_CONVERSATION; turn++) {
          await memory.getItems();
          await memory.addItems(turnItems);
        }
      }
      const micros = ((performance.now() - started) * 1000) / (BATCH * TURNS_PER_CONVERSATION);
      if (round > 0) samples.get(name)?.push(micros);
    }
  }
  return samples;
}

async function main(): Promise<void> {
  setTracingDisabled(true);
  console.log(
    `\n@threadline/openai-agents — per-run cost on the real Runner, instant model, memory store; median (min–max) over ${ROUNDS} interleaved rounds × ${BATCH} runs\n`,
  );
  const results = await measure();
  const baselineName = "runner.run, nothing attached (baseline)";
  const baseline = results.get(baselineName) ?? [];
  /** Per-round differences to the baseline measured in the same round. */
  const added = (samples: readonly number[]) =>
    samples.map((micros, round) => micros - (baseline[round] ?? Number.NaN));
  printTable(
    ["variant", "µs per run", "added µs per run", "vs baseline (medians)"],
    [...results].map(([name, samples]) => [
      name,
      spread(samples, fixed(1)),
      name === baselineName ? "" : spread(added(samples), fixed(1)),
      `${(median(samples) / median(baseline)).toFixed(2)}×`,
    ]),
  );
  const ours = results.get("hooks.run(), memory on (memory store)") ?? [];
  const sdks = results.get("reference: runner.run + SDK MemorySession") ?? [];
  const beyondSdk = ours.map((micros, round) => micros - (sdks[round] ?? Number.NaN));
  console.log(
    `\nMemory beyond what the SDK's own MemorySession costs for the same conversations: ${spread(beyondSdk, fixed(1))} µs per run.`,
  );

  console.log("\nMemory alone (no Runner), per conversation turn: read the history, append 2 items\n");
  printTable(
    ["memory", "µs per turn"],
    [...(await memoryAlone())].map(([name, samples]) => [name, spread(samples, fixed(1))]),
  );
  console.log(`\nNode ${process.version}, ${process.platform}/${process.arch}`);
}

await main();
