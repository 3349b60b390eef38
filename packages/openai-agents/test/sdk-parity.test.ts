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
import { expect, it } from "vitest";
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
