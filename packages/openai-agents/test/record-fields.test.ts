import { Agent, type ModelProvider, Runner, setTracingDisabled, Usage } from "@openai/agents";
import { assistantMessage, functionCall, modelResponder, ScriptedModel } from "@openai/agents/testing";
import type { RunRecord } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { SessionHooks } from "../src/index.js";
import { echoAgent, lastUserText, triageAgents } from "./support/agents.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));

/** A scripted model with a name, as a `Model` of an app or an integration may have. */
class NamedScriptedModel extends ScriptedModel {
  readonly name = "scripted-billing-1";
}

describe("turn, models and messages in the record", () => {
  it("records the session's turn, the user's message and the final agent's answer", async () => {
    const { hooks, records, runner } = hooksOnRunner();
    const agent = echoAgent();
    const context = { userId: "user-123" };
    await runner.run(agent, "Hello", { context });
    await runner.run(agent, "Still there?", { context });
    await hooks.run(agent, "Third", { userId: "user-123" });
    await hooks.flush();
    expect(records.map((record) => record.turn)).toEqual([1, 2, 3]);
    expect(records[1]?.messages).toEqual([
      { role: "user", content: "Still there?" },
      { role: "assistant", content: "Support Bot heard: Still there?", agent: "Support Bot" },
    ]);
    // A ScriptedModel has no name: no models rather than a guess.
    expect(records[0]?.models).toBeUndefined();
  });

  it("names the models in order of first use: a model name string, and a Model's name", async () => {
    const { triage, billing } = triageAgents();
    const triageModel = triage.model as ScriptedModel;
    const named = new NamedScriptedModel(
      Array.from({ length: 4 }, (_, step) =>
        modelResponder((call) =>
          step % 2 === 0
            ? {
                output: [functionCall("refund", { account: "acct-1" }, { callId: `refund-${step}` })],
                usage: new Usage(),
              }
            : { output: [assistantMessage(`refunded for: ${lastUserText(call.request.input)}`)], usage: new Usage() },
        ),
      ),
    );
    billing.model = named;
    triage.model = "gpt-4.1-mini"; // resolved by the Runner's model provider, as with OpenAI
    const modelProvider: ModelProvider = { getModel: (name) => (name === "gpt-4.1-mini" ? triageModel : named) };
    const records: RunRecord[] = [];
    const hooks = new SessionHooks({
      namespace: "support",
      now: createFakeClock().now,
      onRecord: (record) => void records.push(record),
    });
    const runner = new Runner({ modelProvider });
    hooks.attach(runner);
    await runner.run(triage, "Refund my last order", { context: { userId: "user-9" } });
    await hooks.flush();
    const [record] = records;
    expect(record?.agents).toEqual(["Triage", "Billing"]);
    expect(record?.models).toEqual(["gpt-4.1-mini", "scripted-billing-1"]);
    expect(record?.turn).toBe(1);
    expect(record?.messages).toEqual([
      { role: "user", content: "Refund my last order" },
      { role: "assistant", content: "refunded for: Refund my last order", agent: "Billing" },
    ]);
  });

  it("a failed run keeps the user's message and no answer; messages are bounded like other values", async () => {
    const failing = new Agent({
      name: "Broken",
      model: new ScriptedModel([
        modelResponder(() => {
          throw new Error("model down");
        }),
      ]),
    });
    const { hooks, records } = hooksOnRunner();
    const huge = "x".repeat(40_000);
    await expect(hooks.run(failing, huge, { userId: "user-1" })).rejects.toThrow("model down");
    await hooks.flush();
    const [record] = records;
    expect(record?.error).toBe("model down");
    expect(record?.turn).toBe(1);
    expect(record?.messages).toHaveLength(1);
    const [message] = record?.messages ?? [];
    expect(message?.role).toBe("user");
    expect(message?.content.length).toBeLessThan(17_000);
    expect(message?.content).toMatch(/truncated by threadline\]$/);
  });

  it("a run whose store failed has no turn, and still its messages", async () => {
    const { hooks, records, runner } = hooksOnRunner();
    hooks.sessionManager.store.resolve = () => Promise.reject(new Error("store down"));
    await runner.run(echoAgent(), "Hello", { context: { userId: "user-2" } });
    await hooks.flush();
    expect(records[0]?.sessionId).toBeNull();
    expect(records[0]?.turn).toBeUndefined();
    expect(records[0]?.messages?.map((message) => message.role)).toEqual(["user", "assistant"]);
  });
});
