// SessionMemory holds to the SDK's own MemorySession: the same cases, run against both. The SDK's
// session is the reference that keeps the port honest; the two differ only in how they reject
// (the SDK throws a UserError with a message, threadline a SessionError with a stable code).
import {
  type AgentInputItem,
  isRunContextAwareSession,
  isSessionHistoryRewriteAwareSession,
  isSessionHistoryTransactionAwareSession,
  MemorySession,
  type RunContextAwareSession,
  type SessionHistoryRewriteAwareSession,
  type SessionHistoryTransactionAwareSession,
} from "@openai/agents";
import { memoryStore, SessionManager, type SessionStore } from "@threadline/session-core";
import { expect, it, vi } from "vitest";
import { SessionMemory } from "../src/index.js";
import { type CapableSession, describeSessionBehaviour } from "./support/session-behaviour.js";

/** Fails the type-check when an SDK upgrade changes the interfaces SessionMemory implements. */
type SdkSession = RunContextAwareSession & SessionHistoryTransactionAwareSession & SessionHistoryRewriteAwareSession;
const asSdkSession = (memory: SessionMemory): SdkSession => memory;

async function sessionMemory(initialItems: AgentInputItem[] = []): Promise<CapableSession> {
  const sessionManager = new SessionManager();
  const session = await sessionManager.resolve("ana");
  const memory = new SessionMemory({
    sessionManager,
    session,
    onError: (error) => {
      throw error;
    },
  });
  if (initialItems.length > 0) await memory.addItems(initialItems);
  return memory as CapableSession;
}

describeSessionBehaviour("SessionMemory on the memory store", {
  create: sessionMemory,
  expectSuffixMismatch: (promise) => expect(promise).rejects.toMatchObject({ code: "HISTORY_MISMATCH" }),
  expectOperationConflict: (promise) => expect(promise).rejects.toMatchObject({ code: "OPERATION_CONFLICT" }),
});

describeSessionBehaviour("the SDK's MemorySession (reference)", {
  create: async (initialItems) => new MemorySession(initialItems === undefined ? {} : { initialItems }),
  expectSuffixMismatch: (promise) => expect(promise).rejects.toThrow("suffix no longer matches"),
  expectOperationConflict: (promise) => expect(promise).rejects.toThrow("already applied with a different transaction"),
});

it("the SDK sees every capability on a store that applies changes atomically", async () => {
  const memory = (await sessionMemory()) as SessionMemory;
  expect(asSdkSession(memory)).toBe(memory);
  expect(isRunContextAwareSession(memory)).toBe(true);
  expect(isSessionHistoryTransactionAwareSession(memory)).toBe(true);
  expect(isSessionHistoryRewriteAwareSession(memory)).toBe(true);
  expect(typeof memory.replaceHistoryWithCompaction).toBe("function");
});

it("on a store without atomic item changes, the memory offers only what it can keep, and the runner uses its fallbacks", async () => {
  const { items, ...rest } = memoryStore();
  const { apply: _apply, ...plainItems } = items as NonNullable<SessionStore["items"]>;
  const sessionManager = new SessionManager({ store: { ...rest, items: plainItems } });
  const session = await sessionManager.resolve("ana");
  const memory = new SessionMemory({ sessionManager, session });
  expect(isRunContextAwareSession(memory)).toBe(true);
  expect(isSessionHistoryTransactionAwareSession(memory)).toBe(false);
  expect(isSessionHistoryRewriteAwareSession(memory)).toBe(false);
  expect(memory.replaceHistoryWithCompaction).toBeUndefined();
  await memory.addItems([{ role: "user", content: "still works" }]);
  expect(await memory.getItems()).toEqual([{ role: "user", content: "still works" }]);
});

it("never logs item contents (the SDK's MemorySession redacts them when model or tool data logging is off)", async () => {
  const logged: unknown[] = [];
  const spies = (["log", "debug", "info", "warn", "error"] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args)),
  );
  const secret = "SECRET_MEMORY_SESSION_VALUE_123";
  const sessionManager = new SessionManager();
  const session = await sessionManager.resolve("ana");
  const memory = new SessionMemory({ sessionManager, session }); // default onError: logs the first failure
  await memory.addItems([{ role: "user", content: secret }]);
  expect(await memory.popItem()).toEqual({ role: "user", content: secret });
  await sessionManager.closeSession("ana");
  await memory.addItems([{ role: "user", content: `${secret}-late` }]); // SESSION_ENDED, logged
  for (const spy of spies) spy.mockRestore();
  expect(logged.length).toBeGreaterThan(0);
  expect(JSON.stringify(logged.map(String))).not.toContain(secret);
});
