// Per-turn cost of a chat history as it grows: `pnpm --filter @threadline/langchain bench:history`.
// A turn is what a chat app does per user message: append the human+AI exchange, then read the
// last N messages for the next prompt. Measured at 10, 1,000 and 10,000 stored messages for
//   - SessionChatMessageHistory on the memory store, bounded at that size (maxItems), so every
//     turn also trims the oldest exchange: the steady state of a full session, trimming included;
//     once more with an operation id per turn (as the WhatsApp app writes);
//   - LangChain's InMemoryChatMessageHistory (an array in the process);
//   - @langchain/redis's RedisChatMessageHistory on a real redis-server this script starts on a
//     free loopback port (never the machine's 6379) and stops. Its getMessages reads the whole list.
// LangChain's histories read everything and the app keeps the last N (`.slice(-N)`); threadline
// reads the last N (`maxMessages`). After each timed turn, the baselines drop the two messages the
// turn added (untimed), so every variant stays at its size. Rounds interleave the variants; each
// cell is the median (min–max) over the rounds of the mean µs per turn in that round.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { InMemoryChatMessageHistory } from "@langchain/core/chat_history";
import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { RedisChatMessageHistory } from "@langchain/redis";
import { fixed, interleaved, printTable, spread } from "@threadline/bench-kit";
import { SessionManager } from "@threadline/session-core";
import { SessionChatMessageHistory } from "../src/index.js";

const SIZES = [10, 1_000, 10_000];
const READ_LAST = 20;
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const TURNS = Number(process.env.TURNS ?? 100);
const TEXT = "How do I change the billing address on my account? ".repeat(2); // ~100 characters

const exchange = (index: number): BaseMessage[] => [
  new HumanMessage(`${index}: ${TEXT}`),
  new AIMessage(`${index}: Open Settings → Billing → Address, edit it and save. ${TEXT}`),
];

interface Variant {
  name: string;
  /** One timed turn: append an exchange, read the last READ_LAST messages. */
  turn(index: number): Promise<void>;
  /** Untimed: back to the size the variant started the turn at. */
  restore?(): Promise<void>;
  close?(): Promise<void>;
}

async function fill(add: (messages: BaseMessage[]) => Promise<void>, size: number): Promise<void> {
  const messages: BaseMessage[] = [];
  for (let index = 0; messages.length < size; index++) messages.push(...exchange(-index - 1));
  for (let start = 0; start < size; start += 1_000) await add(messages.slice(start, Math.min(size, start + 1_000)));
}

async function threadline(size: number, withOperationId: boolean): Promise<Variant> {
  const sessions = new SessionManager({
    maxItems: size,
    maxItemBytes: Number.POSITIVE_INFINITY,
    inactivityTimeout: 24 * 3600, // the Redis rows take minutes; the session must outlive the run
    cleanupInterval: 0,
  });
  const session = await sessions.resolve(`user-${size}`);
  // Filling in one write per 1,000 messages would make each fill one group; fill exchange by exchange.
  const filler = new SessionChatMessageHistory({ sessionManager: sessions, session });
  await fill(async (messages) => {
    for (let index = 0; index < messages.length; index += 2) await filler.addMessages(messages.slice(index, index + 2));
  }, size);
  const history = new SessionChatMessageHistory({ sessionManager: sessions, session, maxMessages: READ_LAST });
  return {
    name: withOperationId ? "SessionChatMessageHistory + operation id" : "SessionChatMessageHistory (memory store)",
    async turn(index) {
      await history.appendMessages(exchange(index), withOperationId ? { operationId: `wamid.${size}.${index}` } : {});
      const last = await history.getMessages();
      if (last.length !== Math.min(READ_LAST, size)) throw new Error(`read ${last.length}`);
    },
  };
}

async function inMemory(size: number): Promise<Variant> {
  const history = new InMemoryChatMessageHistory();
  await fill((messages) => history.addMessages(messages), size);
  return {
    name: "InMemoryChatMessageHistory",
    async turn(index) {
      await history.addMessages(exchange(index));
      const last = (await history.getMessages()).slice(-READ_LAST);
      if (last.length !== READ_LAST && last.length !== size + 2) throw new Error(`read ${last.length}`);
    },
    async restore() {
      const messages = await history.getMessages();
      messages.splice(-2, 2);
    },
  };
}

async function redis(size: number, url: string): Promise<Variant> {
  const history = new RedisChatMessageHistory({ sessionId: `bench:${size}`, config: { url } });
  await history.clear();
  await fill((messages) => history.addMessages(messages), size);
  return {
    name: "RedisChatMessageHistory (@langchain/redis)",
    async turn(index) {
      await history.addMessages(exchange(index));
      const last = (await history.getMessages()).slice(-READ_LAST);
      if (last.length !== READ_LAST && last.length !== size + 2) throw new Error(`read ${last.length}`);
    },
    async restore() {
      await history.client.lPop(`bench:${size}`);
      await history.client.lPop(`bench:${size}`);
    },
    async close() {
      await history.clear();
    },
  };
}

/** Mean µs per turn over TURNS turns, restores excluded. */
async function measure(variant: Variant, offset: number): Promise<number> {
  let spent = 0;
  for (let turn = 0; turn < TURNS; turn++) {
    const started = performance.now();
    await variant.turn(offset + turn);
    spent += performance.now() - started;
    await variant.restore?.();
  }
  return (spent * 1000) / TURNS;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

async function startRedis(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Ready to accept connections")) resolve();
    });
  });
  child.stdout?.resume();
  return { url: `redis://127.0.0.1:${port}`, process: child };
}

async function main(): Promise<void> {
  const server = await startRedis();
  const rows: string[][] = [];
  try {
    for (const size of SIZES) {
      const variants = [
        await threadline(size, false),
        await threadline(size, true),
        await inMemory(size),
        await redis(size, server.url),
      ];
      for (const variant of variants) await measure(variant, -1_000_000); // warm-up
      let round = 0;
      const results = await interleaved(
        ROUNDS,
        Object.fromEntries(
          variants.map((variant) => [variant.name, () => measure(variant, (round++ + 1) * TURNS * 10)]),
        ),
      );
      for (const variant of variants) {
        rows.push([size.toLocaleString("en-US"), variant.name, spread(results[variant.name] ?? [], fixed(1, " µs"))]);
        await variant.close?.();
      }
    }
  } finally {
    server.process.kill("SIGTERM");
  }
  console.log(
    `\nPer turn (append a human+AI exchange, read the last ${READ_LAST}), µs, median (min–max) of ${ROUNDS} interleaved rounds × ${TURNS} turns\n`,
  );
  printTable(["stored messages", "history", "per turn"], rows);
}

await main();
process.exit(0); // the redis pool of @langchain/redis keeps its clients open
