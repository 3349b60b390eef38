// SessionMemory on the Redis store: the SDK's MemorySession cases, a run resumed after a tool
// approval, and a history transaction retried from two connections at once. The store-level
// guarantees (one apply per operation id across OS processes, single node and cluster) are tested
// in @threadline/store-redis; this shows the Agents memory relies on them as it does on memory.
import { type AgentInputItem, Runner, type Session, setTracingDisabled } from "@openai/agents";
import { SessionManager } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/testing";
import { redisStore } from "@threadline/store-redis";
import { type RedisServer, startRedisServer } from "@threadline/store-redis/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionMemory } from "../src/index.js";
import { refundAgent } from "./support/refund-agent.js";
import { type CapableSession, describeSessionBehaviour } from "./support/session-behaviour.js";

let server: RedisServer;
const clients: Redis[] = [];
let prefixes = 0;

beforeAll(async () => {
  setTracingDisabled(true);
  server = await startRedisServer();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server?.stop();
});

/** A manager on its own connection and key prefix (or a shared prefix, to share sessions). */
function redisManager(keyPrefix = `agents-${++prefixes}:`): SessionManager {
  const client = new Redis(server.url);
  clients.push(client);
  return new SessionManager({ store: redisStore({ client, keyPrefix, clock: "app" }), now: createFakeClock().now });
}

async function memoryOn(sessionManager: SessionManager) {
  const session = await sessionManager.resolve("ana");
  const errors: unknown[] = [];
  return { memory: new SessionMemory({ sessionManager, session, onError: (error) => errors.push(error) }), errors };
}

describeSessionBehaviour("SessionMemory on the Redis store", {
  create: async (initialItems: AgentInputItem[] = []) => {
    const { memory } = await memoryOn(redisManager());
    if (initialItems.length > 0) await memory.addItems(initialItems);
    return memory as CapableSession;
  },
  expectSuffixMismatch: (promise) => expect(promise).rejects.toMatchObject({ code: "HISTORY_MISMATCH" }),
  expectOperationConflict: (promise) => expect(promise).rejects.toMatchObject({ code: "OPERATION_CONFLICT" }),
});

describe("SessionMemory on the Redis store under the real Runner", () => {
  async function runApproving(session: Session, needsApproval: boolean, order: string): Promise<void> {
    const runner = new Runner();
    const agent = refundAgent({ needsApproval });
    let result = await runner.run(agent, order, { session });
    while (result.interruptions.length > 0) {
      for (const interruption of result.interruptions) result.state.approve(interruption);
      result = await runner.run(agent, result.state, { session });
    }
    expect(result.finalOutput).toBe(`done: ${order}`);
  }

  it("a run resumed after a tool approval leaves history exactly as one clean run", async () => {
    const clean = await memoryOn(redisManager());
    const resumed = await memoryOn(redisManager());
    for (const order of ["D1", "D2"]) {
      await runApproving(clean.memory, false, order);
      await runApproving(resumed.memory, true, order);
    }
    const expected = await clean.memory.getItems();
    expect(expected).toHaveLength(12);
    expect(await resumed.memory.getItems()).toEqual(expected);
    expect([...clean.errors, ...resumed.errors]).toEqual([]);
  });

  it("a history transaction retried from two connections at once is applied once", async () => {
    const keyPrefix = `agents-shared-${++prefixes}:`;
    const [first, second] = [await memoryOn(redisManager(keyPrefix)), await memoryOn(redisManager(keyPrefix))];
    const transaction = {
      operationId: "turn-1",
      transaction: { type: "append_items" as const, items: [{ role: "user" as const, content: "refund D1" }] },
    };
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        (index % 2 === 0 ? first : second).memory.applyHistoryTransaction(transaction),
      ),
    );
    expect(await first.memory.getItems()).toEqual([{ role: "user", content: "refund D1" }]);
    expect(await second.memory.getItems()).toEqual(await first.memory.getItems());
  });
});
