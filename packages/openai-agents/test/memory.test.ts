// Session-scoped memory through the run wrapper: the agent remembers earlier turns while the
// threadline session lives, and nothing after it expires or is closed. Asserted on what the
// model actually receives.
import { Agent, MemorySession, Runner, setTracingDisabled } from "@openai/agents";
import { assistantMessage } from "@openai/agents/testing";
import {
  type ErrorContext,
  type ErrorHandler,
  memoryStore,
  type RunRecord,
  SessionManager,
  type SessionStore,
} from "@threadline/session-core";
import { createFakeClock, faultyStore } from "@threadline/session-core/testing";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SessionHooks, SessionMemory } from "../src/index.js";
import { echoAgent, lastUserText, modelOf, replyingModel, textsOf } from "./support/agents.js";

beforeAll(() => setTracingDisabled(true));
afterEach(() => vi.restoreAllMocks());

function setup(options: ConstructorParameters<typeof SessionHooks>[0] = {}) {
  const clock = createFakeClock();
  const errors: unknown[] = [];
  const hooks = new SessionHooks({
    namespace: "support",
    now: clock.now,
    onError: (error) => errors.push(error),
    ...options,
  });
  const agent = echoAgent();
  /** Texts the model saw on its latest call. */
  const lastSeen = () => textsOf(modelOf(agent).lastCall?.request.input ?? []);
  return { clock, errors, hooks, agent, lastSeen };
}

describe("memory scoped to the session", () => {
  it("the second turn sees the first", async () => {
    const { hooks, agent, lastSeen } = setup();
    await hooks.run(agent, "My name is Ana", { userId: "ana" });
    expect(lastSeen()).toEqual(["My name is Ana"]);
    await hooks.run(agent, "What is my name?", { userId: "ana" });
    expect(lastSeen()).toEqual(["My name is Ana", "Support Bot heard: My name is Ana", "What is my name?"]);
  });

  it("after expiry the agent starts fresh", async () => {
    const { clock, hooks, agent, lastSeen } = setup({ inactivityTimeout: 120 });
    await hooks.run(agent, "My name is Ana", { userId: "ana" });
    clock.advance(119);
    await hooks.run(agent, "Still there?", { userId: "ana" });
    expect(lastSeen()).toContain("My name is Ana");
    clock.advance(120);
    const result = await hooks.run(agent, "What is my name?", { userId: "ana" });
    expect(lastSeen()).toEqual(["What is my name?"]);
    expect((await hooks.sessionOf(result))?.isNew).toBe(true);
  });

  it("after closeSession or forceNew the agent starts fresh", async () => {
    const { hooks, agent, lastSeen } = setup();
    await hooks.run(agent, "Order #123 is late", { userId: "ana" });
    await hooks.closeSession("ana");
    await hooks.run(agent, "Hello", { userId: "ana" });
    expect(lastSeen()).toEqual(["Hello"]);
    await hooks.run(agent, "New ticket", { userId: "ana", forceNew: true });
    expect(lastSeen()).toEqual(["New ticket"]);
  });

  it("two users never see each other's items, interleaved or concurrent", async () => {
    const { hooks, agent } = setup();
    const model = modelOf(agent);
    await hooks.run(agent, "ana: secret A1", { userId: "ana" });
    await hooks.run(agent, "bruno: secret B1", { userId: "bruno" });
    await Promise.all([
      hooks.run(agent, "ana: secret A2", { userId: "ana" }),
      hooks.run(agent, "bruno: secret B2", { userId: "bruno" }),
      hooks.run(agent, "ana: secret A3", { userId: "ana" }),
    ]);
    for (const call of model.calls) {
      const texts = textsOf(call.request.input).filter((text) => text.includes("secret"));
      const owners = new Set(texts.map((text) => /(ana|bruno):/.exec(text)?.[1]));
      expect(owners.size).toBe(1);
    }
    const anaSession = await hooks.sessionManager.resolve("ana", "support");
    const anaTexts = textsOf((await hooks.sessionManager.getItems(anaSession)) as never);
    expect(anaTexts.filter((text) => text.startsWith("ana:"))).toHaveLength(3);
    expect(anaTexts.some((text) => text.includes("bruno"))).toBe(false);
  });

  it("memory: false (per run or for the hooks) gives no history", async () => {
    const { hooks, agent, lastSeen } = setup();
    await hooks.run(agent, "Remember me", { userId: "ana", memory: false });
    await hooks.run(agent, "Do you?", { userId: "ana", memory: false });
    expect(lastSeen()).toEqual(["Do you?"]);

    const forgetful = setup({ memory: false });
    await forgetful.hooks.run(forgetful.agent, "Remember me", { userId: "ana" });
    await forgetful.hooks.run(forgetful.agent, "Do you?", { userId: "ana" });
    expect(forgetful.lastSeen()).toEqual(["Do you?"]);
  });

  it("a session you pass replaces the threadline memory", async () => {
    const { hooks, agent, lastSeen } = setup();
    const session = new MemorySession();
    await hooks.run(agent, "One", { userId: "ana", session });
    await hooks.run(agent, "Two", { userId: "ana", session });
    expect(lastSeen()).toEqual(["One", "Support Bot heard: One", "Two"]);
    const threadline = await hooks.sessionManager.resolve("ana", "support");
    expect(await hooks.sessionManager.getItems(threadline)).toEqual([]);
  });

  it("a store without conversation items: runs work without memory, reported once as UNSUPPORTED", async () => {
    const { items: _items, ...withoutItems } = memoryStore();
    const store: SessionStore = withoutItems;
    const { hooks, agent, errors, lastSeen } = setup({ store });
    await hooks.run(agent, "One", { userId: "ana" });
    await hooks.run(agent, "Two", { userId: "ana" });
    expect(lastSeen()).toEqual(["Two"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "UNSUPPORTED" });
  });

  it("streamed runs remember too, and emit their record", async () => {
    const records: RunRecord[] = [];
    const { hooks, agent, lastSeen } = setup({ onRecord: (record) => void records.push(record) });
    const first = await hooks.run(agent, "Streaming hello", { userId: "ana", stream: true });
    for await (const _event of first) {
      // drain the stream
    }
    await first.completed;
    const second = await hooks.run(agent, "And again", { userId: "ana", stream: true });
    await second.completed;
    expect(lastSeen()).toEqual(["Streaming hello", "Support Bot heard: Streaming hello", "And again"]);
    await hooks.flush();
    expect(records.map((record) => record.input)).toEqual(["Streaming hello", "And again"]);
    expect(records[1]?.sessionId).toBe(records[0]?.sessionId);
  });

  it("the wrapper uses the Runner the hooks were attached to, or the one given", async () => {
    const { hooks, agent } = setup();
    const attached = new Runner({ workflowName: "attached" });
    const given = new Runner({ workflowName: "given" });
    hooks.attach(attached);
    const seen: string[] = [];
    attached.on("agent_start", () => seen.push("attached"));
    given.on("agent_start", () => seen.push("given"));
    await hooks.run(agent, "One", { userId: "ana" });
    await hooks.run(agent, "Two", { userId: "ana", runner: given });
    await hooks.run(agent, "Three", { userId: "ana" });
    expect(seen).toEqual(["attached", "given", "attached"]);
  });
});

describe("SessionMemory", () => {
  it("is an Agents Session bound to one threadline session", async () => {
    const clock = createFakeClock();
    const sessionManager = new SessionManager({ now: clock.now });
    const session = await sessionManager.resolve("ana");
    const memory = new SessionMemory({ sessionManager, session });
    expect(await memory.getSessionId()).toBe(session.sessionId);
    await memory.addItems([
      { role: "user", content: "one" },
      { role: "user", content: "two" },
    ]);
    expect(await memory.getItems(1)).toEqual([{ role: "user", content: "two" }]);
    expect(await memory.popItem()).toEqual({ role: "user", content: "two" });
    await memory.clearSession();
    expect(await memory.getItems()).toEqual([]);
  });

  it("refuses to write into an ended session, reporting SESSION_ENDED instead of throwing", async () => {
    const errors: unknown[] = [];
    const sessionManager = new SessionManager();
    const session = await sessionManager.resolve("ana");
    const memory = new SessionMemory({ sessionManager, session, onError: (error) => errors.push(error) });
    await sessionManager.closeSession("ana");
    await memory.addItems([{ role: "user", content: "late" }]);
    expect(errors[0]).toMatchObject({ code: "SESSION_ENDED" });
    const next = await sessionManager.resolve("ana");
    expect(await sessionManager.getItems(next)).toEqual([]);
  });

  it("rejects missing options with INVALID_OPTION saying what to pass", () => {
    const sessionManager = new SessionManager();
    for (const options of [
      undefined,
      {},
      { sessionManager },
      { session: { namespace: "a", userId: "b", sessionId: "c" } },
    ]) {
      expect(() => new SessionMemory(options as never)).toThrow(
        expect.objectContaining({
          code: "INVALID_OPTION",
          message: expect.stringContaining("{ sessionManager, session }"),
        }),
      );
    }
  });

  it("on a Runner with hooks attached, context.userId keeps the run in the memory's session (README example)", async () => {
    const { hooks, agent, lastSeen } = setup();
    const runner = new Runner();
    hooks.attach(runner);
    const userId = "ana";
    for (const text of ["My name is Ana", "What is my name?"]) {
      const session = await hooks.sessionManager.resolve(userId, hooks.namespace);
      const memory = new SessionMemory({ sessionManager: hooks.sessionManager, session });
      const result = await runner.run(agent, text, { session: memory, context: { userId } });
      expect((await hooks.sessionOf(result))?.sessionId).toBe(session.sessionId);
    }
    expect(lastSeen()).toEqual(["My name is Ana", "Support Bot heard: My name is Ana", "What is my name?"]);
    // No extra session under "anonymous".
    expect(await hooks.sessionManager.getSessionInfo("anonymous", "support")).toBeNull();
  });

  it("memories built by hooks.run report through the hooks' sink: an outage logs once, not once per run", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const store = faultyStore();
    const hooks = new SessionHooks({ store }); // no onError: the default log
    for (const userId of ["a", "b", "c"]) {
      store.fail({ operations: ["items.list", "items.append"] });
      const result = await hooks.run(echoAgent(), "Hi", { userId });
      expect(result.finalOutput).toBe("Support Bot heard: Hi");
      store.recover();
    }
    await hooks.flush();
    expect(log.mock.calls.map((call) => String(call[0]).split(" failed")[0])).toEqual([
      "[threadline] [openai-agents] memory",
    ]);
  });

  it("hand-built memories share one onError handler (README example)", async () => {
    const store = faultyStore();
    const sessionManager = new SessionManager({ store });
    const failures: ErrorContext[] = [];
    const onError: ErrorHandler = (_error, context) => void failures.push(context);
    const runner = new Runner();
    for (const userId of ["a", "b"]) {
      const session = await sessionManager.resolve(userId);
      store.fail({ operations: ["items.list"] });
      const memory = new SessionMemory({ sessionManager, session, onError });
      await runner.run(echoAgent(), "Hi", { session: memory });
      store.recover();
    }
    expect(failures.map(({ operation, userId }) => [operation, userId])).toEqual([
      ["memory", "a"],
      ["memory", "b"],
    ]);
  });

  it("works with the plain runner.run session option", async () => {
    const sessionManager = new SessionManager();
    const session = await sessionManager.resolve("ana");
    const agent = new Agent({
      name: "Counter",
      instructions: "Count.",
      model: replyingModel((input) => [assistantMessage(`seen ${textsOf(input).length}: ${lastUserText(input)}`)]),
    });
    const runner = new Runner();
    await runner.run(agent, "a", { session: new SessionMemory({ sessionManager, session }) });
    const result = await runner.run(agent, "b", { session: new SessionMemory({ sessionManager, session }) });
    expect(result.finalOutput).toBe("seen 3: b");
  });
});
