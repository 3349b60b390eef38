// SessionMemory under the real Runner: whole turns trimmed (never an orphan), a resumed run after a
// tool approval and a blocked-then-retried history transaction leave history as one clean run
// (and the SDK's own MemorySession) would, and concurrent runs of one user corrupt nothing.
import {
  type Agent,
  type AgentInputItem,
  MemorySession,
  Runner,
  type RunState,
  type Session,
  type SessionHistoryTransactionArgs,
  setTracingDisabled,
} from "@openai/agents";
import { assistantMessage, functionCall } from "@openai/agents/testing";
import { SessionManager, type SessionManagerOptions } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { SessionHooks, SessionMemory } from "../src/index.js";
import { lastUserText } from "./support/agents.js";
import { refundAgent } from "./support/refund-agent.js";

beforeAll(() => setTracingDisabled(true));

async function memoryFor(options: SessionManagerOptions = {}, userId = "ana") {
  const sessionManager = new SessionManager({ now: createFakeClock().now, ...options });
  const session = await sessionManager.resolve(userId);
  const errors: unknown[] = [];
  const memory = new SessionMemory({ sessionManager, session, onError: (error) => errors.push(error) });
  return { sessionManager, session, memory, errors };
}

/** No tool result without its call before it, no reasoning item without the item it led to. */
function expectNoOrphans(items: readonly AgentInputItem[]): void {
  const calls = new Set<string>();
  items.forEach((item, index) => {
    if (item.type === "function_call") calls.add(item.callId);
    if (item.type === "function_call_result") expect(calls.has(item.callId), `orphan result ${item.callId}`).toBe(true);
    if (item.type === "reasoning") expect(items[index + 1]?.type, "orphan reasoning").not.toBe("reasoning");
  });
  expect(items.at(-1)?.type).not.toBe("reasoning");
}

const typesOf = (items: readonly AgentInputItem[]) =>
  items.map((item) =>
    item.type === undefined || item.type === "message" ? (item as { role: string }).role : item.type,
  );

describe("whole turns", () => {
  it("a full turn is kept whole, and trimming drops the oldest turns whole: no orphans at any bound", async () => {
    const agent = refundAgent();
    for (const maxItems of [6, 7, 9, 12, 13]) {
      const { memory, errors } = await memoryFor({ maxItems });
      const runner = new Runner();
      for (const order of ["A1", "A2", "A3", "A4", "A5"]) {
        await runner.run(agent, order, { session: memory });
        const items = await memory.getItems();
        expect(items.length).toBeLessThanOrEqual(maxItems);
        expectNoOrphans(items);
        // The history starts at a turn: the user's message.
        expect(items[0]).toMatchObject({ role: "user" });
        // The newest turn is always whole.
        expect(lastUserText(items)).toBe(order);
      }
      expect(errors).toEqual([]);
    }
  });

  it("one turn is six items here: user, reasoning, call, result, reasoning, answer", async () => {
    const { memory } = await memoryFor({ maxItems: 6 });
    await new Runner().run(refundAgent(), "B1", { session: memory });
    expect(typesOf(await memory.getItems())).toEqual([
      "user",
      "reasoning",
      "function_call",
      "function_call_result",
      "reasoning",
      "assistant",
    ]);
    await new Runner().run(refundAgent(), "B2", { session: memory });
    expect(lastUserText(await memory.getItems())).toBe("B2");
    expect(await memory.getItems()).toHaveLength(6);
  });

  it("a turn larger than the bounds by itself is refused (ITEMS_TOO_LARGE, reported), never stored in part as a new turn", async () => {
    const { memory, errors } = await memoryFor({ maxItems: 4 });
    await new Runner().run(refundAgent(), "C1", { session: memory });
    expect(errors.map((error) => (error as { code?: string }).code)).toContain("ITEMS_TOO_LARGE");
    expectNoOrphans(await memory.getItems());
  });
});

describe("resumed and retried runs", () => {
  /** Runs `order` on a session, approving every tool call it pauses for; returns the stored items. */
  async function runApproving(session: Session, agent: Agent, order: string): Promise<AgentInputItem[]> {
    const runner = new Runner();
    let result = await runner.run(agent, order, { session });
    while (result.interruptions.length > 0) {
      for (const interruption of result.interruptions) result.state.approve(interruption);
      result = await runner.run(agent, result.state, { session });
    }
    expect(result.finalOutput).toBe(`done: ${order}`);
    return session.getItems();
  }

  it("a run resumed after a tool approval leaves history exactly as one clean run (and the SDK's MemorySession)", async () => {
    const clean = await memoryFor();
    const resumed = await memoryFor();
    const sdk = new MemorySession();
    for (const order of ["D1", "D2"]) {
      await runApproving(clean.memory, refundAgent(), order);
      await runApproving(resumed.memory, refundAgent({ needsApproval: true }), order);
      await runApproving(sdk, refundAgent({ needsApproval: true }), order);
    }
    const expected = await clean.memory.getItems();
    expect(expected).toHaveLength(12);
    expect(await resumed.memory.getItems()).toEqual(expected);
    expect(await sdk.getItems()).toEqual(expected);
    expect([...clean.errors, ...resumed.errors]).toEqual([]);
  });

  /** Forwards to `session`, delivering every history transaction twice, as a retried request would. */
  function redelivering(session: SessionMemory): { session: SessionMemory; transactions: string[] } {
    const transactions: string[] = [];
    const wrapper = Object.create(session) as SessionMemory;
    wrapper.applyHistoryTransaction = async (args: SessionHistoryTransactionArgs) => {
      transactions.push(`${args.transaction.type} ${args.operationId}`);
      await session.applyHistoryTransaction(args);
      await session.applyHistoryTransaction(args);
    };
    for (const name of ["getSessionId", "getItems", "addItems", "popItem", "clearSession"] as const) {
      (wrapper as unknown as Record<string, unknown>)[name] = (session[name] as (...args: never[]) => unknown).bind(
        session,
      );
    }
    return { session: wrapper, transactions };
  }

  it("a tool's effect kept through a transaction when a guardrail blocks the output: delivered twice, it lands once, as in MemorySession", async () => {
    const outcome = async (session: Session) => {
      let block = true;
      const agent = refundAgent({ stopOnFirstTool: true, blockOutput: () => block });
      const runner = new Runner();
      // The tool runs, then the output guardrail blocks the result: the runner keeps the tool's
      // effect in history through a transaction (blocked_append); the blocked state resumed, and a
      // next turn, then go on from there.
      const blocked = await runner.run(agent, "E1", { session }).then(
        () => undefined,
        (error: { state?: RunState<unknown, Agent> }) => error.state,
      );
      expect(blocked).toBeDefined();
      const afterBlock = await session.getItems();
      block = false;
      const resumed = await runner.run(agent, blocked as RunState<unknown, Agent>, { session });
      await runner.run(agent, "E2", { session });
      return { afterBlock, resumed: resumed.finalOutput, final: await session.getItems() };
    };
    const { memory, errors } = await memoryFor();
    const wrapped = redelivering(memory);
    const ours = await outcome(wrapped.session);
    const sdks = await outcome(new MemorySession());
    expect(wrapped.transactions).toEqual([expect.stringMatching(/^append_items .+:blocked_append:0:2$/)]);
    expect(typesOf(ours.afterBlock)).toEqual(["user", "function_call", "function_call_result"]);
    expect(ours).toEqual(sdks);
    expectNoOrphans(ours.final);
    expect(errors).toEqual([]);
  });

  it("the same transaction applied twice (a retried run) appends once; a different one under its id is refused", async () => {
    const { memory } = await memoryFor();
    const args: SessionHistoryTransactionArgs = {
      operationId: "run-1:turn-1:blocked_append:0:2",
      transaction: { type: "append_items", items: [{ role: "user", content: "F1" }, assistantMessage("done: F1")] },
    };
    await memory.applyHistoryTransaction(args);
    await memory.applyHistoryTransaction(structuredClone(args));
    expect(await memory.getItems()).toHaveLength(2);
    await expect(
      memory.applyHistoryTransaction({
        operationId: args.operationId,
        transaction: { type: "append_items", items: [{ role: "user", content: "other" }] },
      }),
    ).rejects.toMatchObject({ code: "OPERATION_CONFLICT" });
    expect(await memory.getItems()).toHaveLength(2);
  });

  it("compaction replaces the history in one step, and a history mutation is a compare-and-swap", async () => {
    const { memory } = await memoryFor();
    await new Runner().run(refundAgent(), "G1", { session: memory });
    await new Runner().run(refundAgent(), "G2", { session: memory });
    const kept = (await memory.getItems()).slice(-6);
    await memory.replaceHistoryWithCompaction([
      { type: "compaction", encrypted_content: "summary of G1" } as AgentInputItem,
      ...kept,
    ]);
    expect(await memory.getItems()).toEqual([{ type: "compaction", encrypted_content: "summary of G1" }, ...kept]);
    const replacement = functionCall("refund", { order: "G2-fixed" }, { callId: "call-G2" }) as AgentInputItem & {
      type: "function_call";
    };
    await memory.applyHistoryMutations({
      mutations: [{ type: "replace_function_call", callId: "call-G2", replacement }],
    });
    const items = await memory.getItems();
    expect(items.filter((item) => item.type === "function_call")).toEqual([replacement]);
    expect(items).toHaveLength(7);
  });
});

describe("concurrent runs of one user", () => {
  it("eight runs at once on one session: every item stored once, each run's items in order, no orphans", async () => {
    const clock = createFakeClock();
    const hooks = new SessionHooks({
      namespace: "shop",
      now: clock.now,
      onError: (error) => {
        throw error;
      },
    });
    const agent = refundAgent();
    const orders = Array.from({ length: 8 }, (_, index) => `H${index}`);
    await Promise.all(orders.map((order) => hooks.run(agent, order, { userId: "ana" })));
    const session = await hooks.sessionManager.resolve("ana", "shop");
    const items = (await hooks.sessionManager.getItems(session)) as AgentInputItem[];
    expect(items).toHaveLength(orders.length * 6);
    expectNoOrphans(items);
    for (const order of orders) {
      const mine = items.filter((item) => JSON.stringify(item).includes(`${order}`));
      expect(typesOf(mine)).toEqual([
        "user",
        "reasoning",
        "function_call",
        "function_call_result",
        "reasoning",
        "assistant",
      ]);
    }
  });
});
