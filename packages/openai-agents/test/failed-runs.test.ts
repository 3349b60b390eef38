// A run started with hooks.run() that fails still leaves a record: the SDK emits no event for a
// failed run, so the wrapper, which sees the failure, records it (`error`, no `output`) and hands
// the caller the run's own error. Paused runs (tool approvals) and plain runner.run() failures
// emit none.
import { Agent, MaxTurnsExceededError, Runner, setTracingDisabled, tool } from "@openai/agents";
import { assistantMessage, functionCall, modelResponse, ScriptedModel } from "@openai/agents/testing";
import type { RunRecord } from "@threadline/session-core";
import { DEFAULT_MAX_VALUE_LENGTH } from "@threadline/session-core/adapter-kit";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { echoAgent } from "./support/agents.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));

/** An agent whose model throws `error` on its first call. */
function brokenModelAgent(error: unknown): Agent {
  return new Agent({
    name: "Broken",
    instructions: "Fail.",
    model: {
      async getResponse() {
        throw error;
      },
      // biome-ignore lint/correctness/useYield: the stream fails before its first event.
      async *getStreamedResponse() {
        throw error;
      },
    },
  });
}

/** An agent that calls `explode` once; the tool throws, and with `errorFunction: null` the run fails. */
function explodingToolAgent(): Agent {
  const explode = tool({
    name: "explode",
    description: "Always fails.",
    parameters: z.object({ target: z.string() }),
    errorFunction: null,
    execute: async () => {
      throw new Error("tool blew up");
    },
  });
  return new Agent({
    name: "Demolition",
    instructions: "Use the tool.",
    tools: [explode],
    model: new ScriptedModel([
      modelResponse([functionCall("explode", { target: "wall" }, { callId: "explode-1" })]),
      modelResponse([assistantMessage("never reached")]),
    ]),
  });
}

describe("a failed hooks.run()", () => {
  it("the model throws: the caller gets that very error, onRecord one record with error and no output", async () => {
    const { hooks, records } = hooksOnRunner();
    const failure = new Error("model down");
    const rejection = await hooks.run(brokenModelAgent(failure), "Hello", { userId: "ana" }).catch((e: unknown) => e);
    expect(rejection).toBe(failure);
    await hooks.flush();
    expect(records).toHaveLength(1);
    const [record] = records as [RunRecord];
    expect(record).toMatchObject({
      source: "openai-agents",
      userId: "ana",
      sessionId: "support-ana-20250107-120000",
      name: "Broken",
      agents: ["Broken"],
      input: "Hello",
      error: "model down",
    });
    expect(record).not.toHaveProperty("output");
    expect(record).not.toHaveProperty("finalAgent");
  });

  it("a tool throws: the record keeps the tool call, the usage so far and the error", async () => {
    const { hooks, records } = hooksOnRunner();
    const rejection = await hooks.run(explodingToolAgent(), "Knock it down", { userId: "bruno" }).catch((e) => e);
    expect(rejection).toBeInstanceOf(Error);
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      userId: "bruno",
      agents: ["Demolition"],
      toolCalls: [{ name: "explode", agent: "Demolition", callId: "explode-1", input: '{"target":"wall"}' }],
      usage: { requests: 1 }, // the one model call before the tool threw
      error: (rejection as Error).message,
    });
    expect(records[0]?.error).toContain("tool blew up");
    expect(records[0]).not.toHaveProperty("output");
  });

  it("max turns: a MaxTurnsExceededError reaches the caller and the record", async () => {
    const { hooks, records } = hooksOnRunner();
    const looping = new Agent({
      name: "Looper",
      instructions: "Loop.",
      tools: [tool({ name: "noop", description: "Nothing.", parameters: z.object({}), execute: async () => "ok" })],
      model: new ScriptedModel(
        Array.from({ length: 5 }, (_, turn) => modelResponse([functionCall("noop", {}, { callId: `noop-${turn}` })])),
      ),
    });
    const rejection = await hooks.run(looping, "Go", { userId: "carla", maxTurns: 2 }).catch((e: unknown) => e);
    expect(rejection).toBeInstanceOf(MaxTurnsExceededError);
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(records[0]?.error).toBe((rejection as Error).message);
    expect(records[0]?.toolCalls).toHaveLength(2);
  });

  it("a streamed run that fails records once, and the stream's error is the run's", async () => {
    const { hooks, records } = hooksOnRunner();
    const failure = new Error("stream down");
    const result = await hooks.run(brokenModelAgent(failure), "Hello", { userId: "dora", stream: true });
    await expect(result.completed).rejects.toBe(failure);
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ userId: "dora", error: "stream down" });
    expect(records[0]).not.toHaveProperty("output");
  });

  it("a thrown non-Error is rethrown as it is and recorded by description", async () => {
    const { hooks, records } = hooksOnRunner();
    const thrown = { reason: "quota" };
    await expect(hooks.run(brokenModelAgent(thrown), "Hi", { userId: "eva" })).rejects.toBe(thrown);
    await hooks.flush();
    expect(records[0]?.error).toMatch(/^Non-Error thrown: /);
  });

  it("the error message is bounded like every text of a record", async () => {
    const { hooks, records } = hooksOnRunner();
    const failure = new Error("e".repeat(1_000_000));
    await expect(hooks.run(brokenModelAgent(failure), "Hi", { userId: "fay" })).rejects.toBe(failure);
    await hooks.flush();
    expect(records[0]?.error?.length).toBeLessThan(DEFAULT_MAX_VALUE_LENGTH + 100);
    expect(records[0]?.error).toMatch(/^e+… \[truncated by threadline\]$/);
  });

  it("a succeeding run still records exactly once, with output and no error", async () => {
    const { hooks, records } = hooksOnRunner();
    await hooks.run(echoAgent(), "Hello", { userId: "gus" });
    await hooks.run(echoAgent(), "Hello", { userId: "gus", stream: true }).then((result) => result.completed);
    await hooks.flush();
    expect(records).toHaveLength(2);
    for (const record of records) {
      expect(record).toMatchObject({ output: "Support Bot heard: Hello", finalAgent: "Support Bot" });
      expect(record).not.toHaveProperty("error");
    }
  });

  it("a run paused for a tool approval emits no record", async () => {
    const { hooks, records } = hooksOnRunner();
    const guarded = new Agent({
      name: "Careful",
      instructions: "Ask first.",
      tools: [
        tool({
          name: "delete_account",
          description: "Deletes the account.",
          parameters: z.object({}),
          needsApproval: true,
          execute: async () => "deleted",
        }),
      ],
      model: new ScriptedModel([modelResponse([functionCall("delete_account", {}, { callId: "delete-1" })])]),
    });
    const result = await hooks.run(guarded, "Delete me", { userId: "hal" });
    expect(result.interruptions).toHaveLength(1);
    await hooks.flush();
    expect(records).toEqual([]);
  });

  it("plain runner.run() with hooks attached: a failed run emits no record (the SDK emits no event for it)", async () => {
    const { hooks, records, runner } = hooksOnRunner();
    const failure = new Error("model down");
    await expect(runner.run(brokenModelAgent(failure), "Hello", { context: { userId: "ivy" } })).rejects.toBe(failure);
    await hooks.flush();
    expect(records).toEqual([]);
    expect(runner).toBeInstanceOf(Runner);
  });
});
