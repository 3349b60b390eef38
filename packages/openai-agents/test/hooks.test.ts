import { Runner, setTracingDisabled } from "@openai/agents";
import { type RunRecord, SessionManager } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/testing";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SessionHooks } from "../src/index.js";
import { echoAgent, modelOf, triageAgents, USAGE_PER_CALL } from "./support/agents.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));
afterEach(() => vi.restoreAllMocks());

describe("sessions per run", () => {
  it("puts a run in the session of context.userId and renews it within the timeout", async () => {
    const { clock, hooks, runner } = hooksOnRunner();
    const agent = echoAgent();
    const first = await runner.run(agent, "Hello", { context: { userId: "user-123" } });
    expect((await hooks.sessionOf(first))?.sessionId).toBe("support-user-123-20250107-120000");

    clock.advance(30);
    const second = await runner.run(agent, "How are you?", { context: { userId: "user-123" } });
    const session = await hooks.sessionOf(second);
    expect(session).toMatchObject({ sessionId: "support-user-123-20250107-120000", isNew: false });
    expect(session?.lastActivityAt).toBe(clock.now());
  });

  it("rolls over after the inactivity timeout (injected clock)", async () => {
    const { clock, hooks, runner } = hooksOnRunner({ inactivityTimeout: 60 });
    const agent = echoAgent();
    const context = { userId: "user-quick" };
    await runner.run(agent, "Quick question", { context });
    const before = await hooks.sessionOf(context);
    clock.advance(59);
    await runner.run(agent, "Follow up", { context });
    expect((await hooks.sessionOf(context))?.sessionId).toBe(before?.sessionId);
    clock.advance(60);
    await runner.run(agent, "Back again", { context });
    const after = await hooks.sessionOf(context);
    expect(after?.isNew).toBe(true);
    expect(after?.sessionId).toBe("support-user-quick-20250107-120159");
  });

  it("uses setUserId() when the context names no user, and the context's user wins over it", async () => {
    const { hooks, runner } = hooksOnRunner();
    const agent = echoAgent();
    hooks.setUserId("customer-456");
    const fromSetter = await runner.run(agent, "Hi");
    expect((await hooks.sessionOf(fromSetter))?.userId).toBe("customer-456");
    const fromContext = await runner.run(agent, "Hi", { context: { userId: "user-789" } });
    expect((await hooks.sessionOf(fromContext))?.userId).toBe("user-789");
  });

  it('falls back to "anonymous" with a single warning', async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { hooks, runner } = hooksOnRunner();
    const agent = echoAgent();
    const first = await runner.run(agent, "Hello");
    const second = await runner.run(agent, "How are you?");
    expect((await hooks.sessionOf(first))?.sessionId).toBe("support-anonymous-20250107-120000");
    expect((await hooks.sessionOf(second))?.sessionId).toBe("support-anonymous-20250107-120000");
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain('"anonymous"');
  });

  it("closeSession through the hooks (and the seed's hooks.sessionManager.closeSession) starts a new session", async () => {
    const { hooks, runner } = hooksOnRunner();
    const agent = echoAgent();
    const context = { userId: "user-123" };
    await runner.run(agent, "Hello", { context });
    expect(await hooks.sessionManager.closeSession("user-123")).toBe(true);
    await runner.run(agent, "New topic", { context });
    const second = await hooks.sessionOf(context);
    expect(second?.sessionId).toBe("support-user-123-20250107-120000-2");
    expect(await hooks.closeSession("user-123")).toBe(true);
    await runner.run(agent, "Another topic", { context });
    expect((await hooks.sessionOf(context))?.sessionId).toBe("support-user-123-20250107-120000-3");
  });

  it("forceNew through the run wrapper starts a new session", async () => {
    const { hooks } = hooksOnRunner();
    const agent = echoAgent();
    const first = await hooks.run(agent, "Hello", { userId: "user-123" });
    const second = await hooks.run(agent, "Start over", { userId: "user-123", forceNew: true });
    const [a, b] = [await hooks.sessionOf(first), await hooks.sessionOf(second)];
    expect(b?.isNew).toBe(true);
    expect(b?.sessionId).not.toBe(a?.sessionId);
  });

  it("lets a tool read its run's session during the run", async () => {
    const { hooks, runner } = hooksOnRunner();
    const { triage } = triageAgents();
    let seenInTool: string | undefined;
    runner.on("agent_tool_start", (runContext) => {
      void hooks.sessionOf(runContext).then((session) => {
        seenInTool = session?.sessionId;
      });
    });
    await runner.run(triage, "I was charged twice", { context: { userId: "ana" } });
    await hooks.flush();
    expect(seenInTool).toBe("support-ana-20250107-120000");
  });

  it("keys sessions by the hooks' namespace", async () => {
    const clock = createFakeClock();
    const support = new SessionHooks({ namespace: "support", now: clock.now });
    const sales = new SessionHooks({ namespace: "sales", sessionManager: support.sessionManager });
    const runner = new Runner();
    support.attach(runner);
    sales.attach(runner);
    const result = await runner.run(echoAgent(), "Hi", { context: { userId: "5511999999999" } });
    expect((await support.sessionOf(result))?.sessionId).toBe("support-5511999999999-20250107-120000");
    expect((await sales.sessionOf(result))?.sessionId).toBe("sales-5511999999999-20250107-120000");
  });
});

describe("records", () => {
  it("records agents, handoffs, tool calls with results, input, output and usage", async () => {
    const { hooks, records, runner } = hooksOnRunner();
    const { triage } = triageAgents();
    const result = await runner.run(triage, "I was charged twice", { context: { userId: "ana" } });
    await hooks.flush();
    expect(records).toHaveLength(1);
    const record = records[0] as RunRecord;
    expect(record).toMatchObject({
      version: 1,
      source: "openai-agents",
      runId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      name: "Triage",
      sessionId: "support-ana-20250107-120000",
      userId: "ana",
      namespace: "support",
      agents: ["Triage", "Billing"],
      finalAgent: "Billing",
      handoffs: [{ from: "Triage", to: "Billing" }],
      input: "I was charged twice",
      output: result.finalOutput,
    });
    // Handoffs are not tool calls: they are in `handoffs`.
    expect(record.toolCalls).toEqual([
      {
        name: "lookup_account",
        agent: "Triage",
        callId: expect.any(String),
        input: JSON.stringify({ message: "I was charged twice" }),
        output: "account of I was charged twice",
      },
      {
        name: "refund",
        agent: "Billing",
        callId: expect.any(String),
        input: JSON.stringify({ account: "account of I was charged twice" }),
        output: "refunded account of I was charged twice",
      },
    ]);
    // 4 model calls: triage (tool, handoff), billing (tool, answer).
    expect(record.usage).toEqual({
      requests: 4,
      inputTokens: 4 * USAGE_PER_CALL.inputTokens,
      outputTokens: 4 * USAGE_PER_CALL.outputTokens,
      totalTokens: 4 * USAGE_PER_CALL.totalTokens,
      systemTokensEstimate: 12 + 4,
    });
    expect(record.startedAt).toBe(record.endedAt); // the fake clock did not move
  });

  it("every run gets its own runId, and times come from the injected manager's clock", async () => {
    const clock = createFakeClock();
    const records: RunRecord[] = [];
    const hooks = new SessionHooks({
      sessionManager: new SessionManager({ now: clock.now }),
      onRecord: (record) => void records.push(record),
    });
    const runner = new Runner();
    hooks.attach(runner);
    // After the hooks' own listener: the run starts, then 5 s pass before it ends.
    runner.on("agent_start", () => clock.advance(5));
    await runner.run(echoAgent(), "One", { context: { userId: "ana" } });
    await runner.run(echoAgent(), "Two", { context: { userId: "ana" } });
    await hooks.flush();
    expect(records.map((record) => record.endedAt - record.startedAt)).toEqual([5000, 5000]);
    expect(records[0]?.startedAt).toBe(Date.parse("2025-01-07T12:00:00Z"));
    expect(records[1]?.startedAt).toBe(Date.parse("2025-01-07T12:00:05Z"));
    expect(new Set(records.map((record) => record.runId)).size).toBe(2);
  });

  it("a throwing or rejecting onRecord never breaks the run and reaches onError", async () => {
    const errors: unknown[] = [];
    const runner = new Runner();
    const throwing = new SessionHooks({
      onRecord: () => {
        throw new Error("sync boom");
      },
      onError: (error) => errors.push(error),
    }).attach(runner);
    const rejecting = new SessionHooks({
      onRecord: async () => {
        throw new Error("async boom");
      },
      onError: (error) => errors.push(error),
    }).attach(runner);
    const result = await runner.run(echoAgent(), "Hello", { context: { userId: "u" } });
    expect(result.finalOutput).toBe("Support Bot heard: Hello");
    await throwing.flush();
    await rejecting.flush();
    expect(errors.map((error) => (error as Error).message).sort()).toEqual(["async boom", "sync boom"]);
  });
});

describe("attaching", () => {
  it("works attached to an agent only (and the agents it hands off to)", async () => {
    const records: RunRecord[] = [];
    const hooks = new SessionHooks({ namespace: "support", onRecord: (record) => void records.push(record) });
    const { triage } = triageAgents();
    hooks.attach(triage);
    await new Runner().run(triage, "Refund please", { context: { userId: "bruno" } });
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      userId: "bruno",
      agents: ["Triage", "Billing"],
      handoffs: [{ from: "Triage", to: "Billing" }],
      finalAgent: "Billing",
    });
    expect(records[0]?.toolCalls.map((call) => call.name)).toEqual(["lookup_account", "refund"]);
  });

  it("counts every event once when attached to both the Runner and the agent", async () => {
    const { hooks, records, runner } = hooksOnRunner();
    const { triage } = triageAgents();
    hooks.attach(triage).attach(runner).attach(runner);
    await runner.run(triage, "Refund please", { context: { userId: "carla" } });
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(records[0]?.agents).toEqual(["Triage", "Billing"]);
    expect(records[0]?.handoffs).toHaveLength(1);
    expect(records[0]?.toolCalls.map((call) => call.name)).toEqual(["lookup_account", "refund"]);
  });

  it("detach stops the records", async () => {
    const { hooks, records, runner } = hooksOnRunner();
    hooks.detach(runner);
    await runner.run(echoAgent(), "Hello", { context: { userId: "u" } });
    await hooks.flush();
    expect(records).toHaveLength(0);
  });
});

describe("the run wrapper's user", () => {
  it("takes context.userId when no userId is given, and userId wins over it", async () => {
    const { hooks } = hooksOnRunner();
    const agent = echoAgent();
    const context = { userId: "from-context", plan: "pro" };
    const fromContext = await hooks.run(agent, "Hi", { context });
    expect((await hooks.sessionOf(fromContext))?.userId).toBe("from-context");
    expect(fromContext.runContext.context).toBe(context); // the app's own object reaches tools
    const explicit = await hooks.run(agent, "Hi", { userId: "explicit", context });
    expect((await hooks.sessionOf(explicit))?.userId).toBe("explicit");
  });
});

describe("robustness", () => {
  it("a listener that fails reports to onError instead of throwing into the emitter", async () => {
    const { errors, runner } = hooksOnRunner();
    // A malformed event: the SDK never sends a null context, but nothing a listener meets may escape it.
    expect(() => runner.emit("agent_start", null as never, null as never)).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
  });

  it("rejects conflicting or invalid options at construction", () => {
    const sessionManager = new SessionHooks().sessionManager;
    expect(() => new SessionHooks({ sessionManager, inactivityTimeout: 30 })).toThrow(
      /either sessionManager or inactivityTimeout/,
    );
    expect(() => new SessionHooks({ sessionManager, store: sessionManager.store })).toThrow(
      /either sessionManager or store/,
    );
    // A clock beside a manager was silently ignored: the records' times would disagree with the sessions'.
    expect(() => new SessionHooks({ sessionManager, now: () => 0 })).toThrow(
      expect.objectContaining({
        code: "INVALID_OPTION",
        message: expect.stringContaining("either sessionManager or now"),
      }),
    );
    expect(() => new SessionHooks({ onRecord: "x" as never })).toThrow(
      expect.objectContaining({
        code: "INVALID_OPTION",
        message: expect.stringContaining("onRecord must be a function"),
      }),
    );
    expect(() => new SessionHooks({ onError: "x" as never })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
    expect(() => new SessionHooks({ memory: "yes" as never })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
    expect(() => new SessionHooks({ namespace: "" })).toThrow(expect.objectContaining({ code: "INVALID_NAMESPACE" }));
    expect(() => new SessionHooks({ inactivityTimeout: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_TIMEOUT" }),
    );
    expect(() => new SessionHooks().setUserId("  ")).toThrow(expect.objectContaining({ code: "INVALID_USER_ID" }));
  });

  it.each([
    ["a plain object", {}],
    ["undefined", undefined],
    ["null", null],
    ["a function", () => {}],
  ])("attach(%s) and detach(%s) throw INVALID_OPTION naming a Runner or an Agent", (_name, target) => {
    const hooks = new SessionHooks();
    for (const method of ["attach", "detach"] as const) {
      expect(() => hooks[method](target as never)).toThrow(
        expect.objectContaining({
          name: "SessionError",
          code: "INVALID_OPTION",
          message: expect.stringContaining("takes a Runner or an Agent"),
        }),
      );
    }
  });

  it("attach and detach refuse an emitter that is neither a Runner nor an Agent", async () => {
    const { EventEmitter } = await import("node:events");
    const hooks = new SessionHooks();
    for (const method of ["attach", "detach"] as const) {
      expect(() => hooks[method](new EventEmitter() as never)).toThrow(
        expect.objectContaining({
          code: "INVALID_OPTION",
          message: expect.stringContaining("takes a Runner or an Agent"),
        }),
      );
    }
  });

  it.each([
    ["null", null],
    ["a user id string", "user-123"],
    ["a number", 42],
    ["an array", [{ userId: "user-123" }]],
    ["a function", () => ({ userId: "user-123" })],
  ])("hooks.run(agent, input, %s) rejects with INVALID_OPTION before any model call", async (_name, options) => {
    const { hooks, records, errors } = hooksOnRunner();
    const agent = echoAgent();
    const rejection = await hooks.run(agent, "Hello", options as never).catch((error: unknown) => error);
    expect(rejection).toMatchObject({
      name: "SessionError",
      code: "INVALID_OPTION",
      source: "openai-agents",
      message: expect.stringContaining("hooks.run(agent, input, { userId })"),
    });
    expect(modelOf(agent).calls).toHaveLength(0);
    await hooks.flush();
    expect(records).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("hooks.run(…, { runner }) with something that is not a Runner rejects with INVALID_OPTION", async () => {
    const { hooks } = hooksOnRunner();
    const agent = echoAgent();
    for (const runner of [{}, null, agent]) {
      await expect(hooks.run(agent, "Hello", { userId: "u", runner: runner as never })).rejects.toMatchObject({
        code: "INVALID_OPTION",
        message: expect.stringContaining("runner must be a Runner"),
      });
    }
    expect(modelOf(agent).calls).toHaveLength(0);
  });

  it("detaching an agent stops its events", async () => {
    const records: RunRecord[] = [];
    const hooks = new SessionHooks({ onRecord: (record) => void records.push(record) });
    const agent = echoAgent();
    hooks.attach(agent).detach(agent);
    await new Runner().run(agent, "Hello", { context: { userId: "u" } });
    await hooks.flush();
    expect(records).toEqual([]);
  });
});
