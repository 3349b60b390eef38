// Apps can end up with two copies of @openai/agents (two versions, or its ESM and CommonJS builds
// both loaded): a Runner from one is not an `instanceof` the other's. The hooks recognise Runners
// and Agents by shape, so they attach to either. Here the second copy is the SDK's CommonJS build.
import { createRequire } from "node:module";
import { Agent, Runner, setTracingDisabled } from "@openai/agents";
import { assistantMessage, functionCall, modelResponse, ScriptedModel } from "@openai/agents/testing";
import type { RunRecord } from "@threadline/session-core";
import { beforeAll, describe, expect, it } from "vitest";
import { SessionHooks } from "../src/index.js";

const other = createRequire(import.meta.url)("@openai/agents") as typeof import("@openai/agents");

beforeAll(() => {
  setTracingDisabled(true);
  other.setTracingDisabled(true);
});

/** Triage hands off to Billing (through a `Handoff` object), which answers; built with the other copy. */
function otherCopyAgents(): { triage: Agent; billing: Agent } {
  const billing = new other.Agent({
    name: "Billing",
    instructions: "You handle refunds.",
    model: new ScriptedModel([modelResponse([assistantMessage("refunded")])]),
  });
  const triage = new other.Agent({
    name: "Triage",
    instructions: "Route.",
    handoffs: [other.handoff(billing)],
    model: new ScriptedModel([modelResponse([functionCall("transfer_to_Billing", {}, { callId: "handoff-1" })])]),
  });
  return { triage, billing };
}

function collecting(): { hooks: SessionHooks; records: RunRecord[] } {
  const records: RunRecord[] = [];
  const hooks = new SessionHooks({ namespace: "support", onRecord: (record) => void records.push(record) });
  return { hooks, records };
}

describe("a second copy of @openai/agents", () => {
  it("really is another copy: instanceof fails across them", () => {
    expect(new other.Runner()).not.toBeInstanceOf(Runner);
    expect(otherCopyAgents().triage).not.toBeInstanceOf(Agent);
  });

  it("attach and detach accept its Runner", async () => {
    const { hooks, records } = collecting();
    const runner = new other.Runner();
    hooks.attach(runner);
    await runner.run(otherCopyAgents().triage, "Refund please", { context: { userId: "ana" } });
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      userId: "ana",
      sessionId: expect.stringContaining("support-ana-"),
      agents: ["Triage", "Billing"],
      handoffs: [{ from: "Triage", to: "Billing" }],
      output: "refunded",
    });
    hooks.detach(runner);
    await runner.run(otherCopyAgents().triage, "Again", { context: { userId: "ana" } });
    await hooks.flush();
    expect(records).toHaveLength(1);
  });

  it("attach and detach accept its Agent, and follow its handoffs", async () => {
    const { hooks, records } = collecting();
    const { triage } = otherCopyAgents();
    hooks.attach(triage);
    await new other.Runner().run(triage, "Refund please", { context: { userId: "bruno" } });
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ userId: "bruno", agents: ["Triage", "Billing"], finalAgent: "Billing" });
    hooks.detach(triage);
    const again = otherCopyAgents();
    hooks.attach(again.triage).detach(again.triage);
    await new other.Runner().run(again.triage, "Again", { context: { userId: "bruno" } });
    await hooks.flush();
    expect(records).toHaveLength(1);
  });

  it("hooks.run on its Runner: the run's user and session, and tools see the app's context", async () => {
    const { hooks, records } = collecting();
    const runner = new other.Runner();
    const context = { userId: "carla", plan: "pro" };
    const result = await hooks.run(otherCopyAgents().triage, "Refund please", { context, runner });
    expect(result.runContext.context).toBe(context);
    expect((await hooks.sessionOf(result))?.sessionId).toContain("support-carla-");
    const plain = await hooks.run(otherCopyAgents().triage, "Refund please", { userId: "dora", runner });
    expect(plain.runContext.context).toEqual({ userId: "dora" });
    await hooks.flush();
    expect(records.map((record) => [record.userId, record.agents, record.output])).toEqual([
      ["carla", ["Triage", "Billing"], "refunded"],
      ["dora", ["Triage", "Billing"], "refunded"],
    ]);
    expect(records[0]?.usage?.requests).toBe(2); // counted on the other copy's RunContext
    expect(await hooks.sessionManager.getSessionInfo("anonymous", "support")).toBeNull();
  });

  it("hooks.run on its Runner: a failed run is recorded with the run's usage", async () => {
    const { hooks, records } = collecting();
    const failing = new other.Agent({
      name: "Broken",
      instructions: "Fail.",
      model: new ScriptedModel([modelResponse([functionCall("missing_tool", {}, { callId: "missing-1" })])]),
    });
    const rejection = await hooks
      .run(failing, "Hi", { userId: "eva", runner: new other.Runner() })
      .catch((error: unknown) => error);
    expect(rejection).toBeInstanceOf(Error);
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ userId: "eva", error: (rejection as Error).message, usage: { requests: 1 } });
  });
});
