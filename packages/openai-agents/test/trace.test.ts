// The run wrapper groups a conversation's traces under its session id (`groupId`). Tracing is
// on in this file only, with a processor that keeps traces in memory instead of exporting them.
import {
  Runner,
  setTraceProcessors,
  setTracingDisabled,
  type Trace,
  type TracingProcessor,
  withTrace,
} from "@openai/agents";
import { createFakeClock } from "@threadline/session-core/testing";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { SessionHooks } from "../src/index.js";
import { echoAgent } from "./support/agents.js";

const traces: Trace[] = [];
const collector: TracingProcessor = {
  async onTraceStart(trace) {
    traces.push(trace);
  },
  async onTraceEnd() {},
  async onSpanStart() {},
  async onSpanEnd() {},
  async shutdown() {},
  async forceFlush() {},
};

beforeAll(() => {
  setTraceProcessors([collector]);
  setTracingDisabled(false);
});
afterAll(() => setTracingDisabled(true));
beforeEach(() => {
  traces.length = 0;
});

function setup() {
  const clock = createFakeClock();
  const hooks = new SessionHooks({ namespace: "support", now: clock.now });
  return { clock, hooks, agent: echoAgent() };
}

it("groups every run of a session under its globalSessionId, and the next session under its own", async () => {
  const { clock, hooks, agent } = setup();
  const runner = new Runner({ workflowName: "Support chat", traceMetadata: { app: "demo" } });
  hooks.attach(runner);
  await hooks.run(agent, "Hello", { userId: "user-123" });
  await hooks.run(agent, "Follow-up", { userId: "user-123" });
  clock.advance(121);
  await hooks.run(agent, "Back later", { userId: "user-123" });
  expect(traces.map((trace) => trace.groupId)).toEqual([
    "support/user-123/support-user-123-20250107-120000",
    "support/user-123/support-user-123-20250107-120000",
    "support/user-123/support-user-123-20250107-120201",
  ]);
  expect(traces[0]?.name).toBe("Support chat");
  expect(traces[0]?.metadata).toEqual({ app: "demo", threadline_namespace: "support" });
});

it("two pairs whose readable session ids coincide get different trace groups", async () => {
  // ("support-vip", "123") and ("support", "vip-123") both get support-vip-123-20250107-120000 in the same second.
  const clock = createFakeClock();
  const runner = new Runner();
  const vip = new SessionHooks({ namespace: "support-vip", now: clock.now }).attach(runner);
  const support = new SessionHooks({ namespace: "support", now: clock.now });
  const agent = echoAgent();
  const first = await vip.run(agent, "Hello", { userId: "123" });
  const second = await support.run(agent, "Hello", { userId: "vip-123", runner });
  expect((await vip.sessionOf(first))?.sessionId).toBe("support-vip-123-20250107-120000");
  expect((await support.sessionOf(second))?.sessionId).toBe("support-vip-123-20250107-120000");
  expect(traces.map((trace) => trace.groupId)).toEqual([
    "support-vip/123/support-vip-123-20250107-120000",
    "support/vip-123/support-vip-123-20250107-120000",
  ]);
});

it("leaves a trace the app opened itself alone", async () => {
  const { hooks, agent } = setup();
  await withTrace("my workflow", () => hooks.run(agent, "Hello", { userId: "user-123" }), { groupId: "mine" });
  expect(traces.map((trace) => [trace.name, trace.groupId])).toEqual([["my workflow", "mine"]]);
});

it("creates no trace on a Runner with tracing disabled", async () => {
  const { hooks, agent } = setup();
  await hooks.run(agent, "Hello", { userId: "user-123", runner: new Runner({ tracingDisabled: true }) });
  expect(traces).toEqual([]);
});

it("plain runner.run with hooks attached keeps the SDK's own trace (no group)", async () => {
  const { hooks, agent } = setup();
  const runner = new Runner();
  hooks.attach(runner);
  await runner.run(agent, "Hello", { context: { userId: "user-123" } });
  expect(traces).toHaveLength(1);
  expect(traces[0]?.groupId ?? null).toBeNull();
});
