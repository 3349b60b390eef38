// A tool that throws leaves its call in the record with `error`, not `output`: through the real
// Runner, whether the SDK turns the throw into a result (the tool's `errorFunction`, a timeout
// with "error_as_result") or lets it fail the run (`errorFunction: null`, "raise_exception").
import { Agent, type RunContext, setTracingDisabled, type Tool, tool } from "@openai/agents";
import { assistantMessage, functionCall, modelResponse, ScriptedModel } from "@openai/agents/testing";
import type { RunRecord, ToolCallRecord } from "@threadline/session-core";
import { DEFAULT_MAX_VALUE_LENGTH } from "@threadline/session-core/adapter-kit";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { SessionHooks } from "../src/index.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));

const never = () => new Promise<string>(() => {});

/** A tool that throws `message`; `options` are the SDK's (errorFunction, timeouts). */
function failing(name: string, message: string, options: Partial<Parameters<typeof tool>[0]> = {}): Tool {
  return tool({
    name,
    description: "Fails.",
    parameters: z.object({}),
    execute: async () => {
      throw new Error(message);
    },
    ...options,
  } as Parameters<typeof tool>[0]);
}

const working = tool({
  name: "lookup",
  description: "Works.",
  parameters: z.object({}),
  execute: async () => "found it",
});

/** An agent that calls `tools` (one call each, in parallel) and then answers "done". */
function agentCalling(tools: Tool[]): Agent {
  return new Agent({
    name: "Worker",
    instructions: "Use the tools.",
    tools,
    model: new ScriptedModel([
      modelResponse(tools.map((t) => functionCall(t.name, {}, { callId: `${t.name}-1` }))),
      modelResponse([assistantMessage("done")]),
    ]),
  });
}

async function recordOf(
  hooks: SessionHooks,
  records: RunRecord[],
  agent: Agent,
): Promise<{ record: RunRecord; rejection: unknown }> {
  const rejection = await hooks.run(agent, "Go", { userId: "ana" }).then(
    () => undefined,
    (error: unknown) => error,
  );
  await hooks.flush();
  expect(records).toHaveLength(1);
  return { record: records[0] as RunRecord, rejection };
}

function callNamed(record: RunRecord, name: string): ToolCallRecord {
  const call = record.toolCalls.find((c) => c.name === name);
  expect(call).toBeDefined();
  return call as ToolCallRecord;
}

describe("a tool whose failure the SDK turns into a result", () => {
  it("default errorFunction: the call has the SDK's failure message as error, no output; the run still answers", async () => {
    const { hooks, records } = hooksOnRunner();
    const { record, rejection } = await recordOf(hooks, records, agentCalling([failing("explode", "tool blew up")]));
    expect(rejection).toBeUndefined();
    expect(record.output).toBe("done");
    expect(record.toolCalls).toEqual([
      {
        name: "explode",
        agent: "Worker",
        callId: "explode-1",
        input: "{}",
        error: "An error occurred while running the tool. Please try again.",
      },
    ]);
  });

  it("in parallel with a working tool, only the failing call gets error", async () => {
    const { hooks, records } = hooksOnRunner();
    const { record } = await recordOf(hooks, records, agentCalling([failing("explode", "boom"), working]));
    expect(callNamed(record, "explode")).toMatchObject({ error: expect.stringContaining("An error occurred") });
    expect(callNamed(record, "explode")).not.toHaveProperty("output");
    expect(callNamed(record, "lookup")).toMatchObject({ output: "found it" });
    expect(callNamed(record, "lookup")).not.toHaveProperty("error");
  });

  it("a timeout with error_as_result: the call's error is the SDK's timeout message", async () => {
    const { hooks, records } = hooksOnRunner();
    const slow = tool({ name: "slow", description: "Hangs.", parameters: z.object({}), timeoutMs: 5, execute: never });
    const { record } = await recordOf(hooks, records, agentCalling([slow]));
    expect(record.output).toBe("done");
    expect(callNamed(record, "slow")).toMatchObject({ error: "Tool 'slow' timed out after 5ms." });
    expect(callNamed(record, "slow")).not.toHaveProperty("output");
  });

  it("a custom errorFunction's text cannot be told from a result: it stays output", async () => {
    const { hooks, records } = hooksOnRunner();
    const errorFunction = (_context: RunContext, error: unknown) => `sorry: ${(error as Error).message}`;
    const { record } = await recordOf(hooks, records, agentCalling([failing("explode", "boom", { errorFunction })]));
    expect(callNamed(record, "explode")).toMatchObject({ output: "sorry: boom" });
  });
});

describe("a tool that fails the run", () => {
  it("errorFunction null: the call's error is the tool's own message, and it has no output", async () => {
    const { hooks, records } = hooksOnRunner();
    const { record, rejection } = await recordOf(
      hooks,
      records,
      agentCalling([failing("explode", "tool blew up", { errorFunction: null })]),
    );
    expect(rejection).toBeInstanceOf(Error);
    expect(record.error).toBe((rejection as Error).message);
    expect(record.toolCalls).toEqual([
      { name: "explode", agent: "Worker", callId: "explode-1", input: "{}", error: "tool blew up" },
    ]);
  });

  it("a timeout with raise_exception: the call's error is the ToolTimeoutError's message", async () => {
    const { hooks, records } = hooksOnRunner();
    const slow = tool({
      name: "slow",
      description: "Hangs.",
      parameters: z.object({}),
      timeoutMs: 5,
      timeoutBehavior: "raise_exception",
      execute: never,
    });
    const { record, rejection } = await recordOf(hooks, records, agentCalling([slow]));
    expect(rejection).toBeInstanceOf(Error);
    expect(callNamed(record, "slow")).toEqual({
      name: "slow",
      agent: "Worker",
      callId: "slow-1",
      input: "{}",
      error: "Tool 'slow' timed out after 5ms.",
    });
  });

  it("the call's error is bounded like every text of a record", async () => {
    const { hooks, records } = hooksOnRunner();
    const { record } = await recordOf(
      hooks,
      records,
      agentCalling([failing("explode", "e".repeat(1_000_000), { errorFunction: null })]),
    );
    const { error } = callNamed(record, "explode");
    expect(error?.length).toBeLessThan(DEFAULT_MAX_VALUE_LENGTH + 100);
    expect(error).toMatch(/^e+… \[truncated by threadline\]$/);
    expect(callNamed(record, "explode")).not.toHaveProperty("output");
  });

  it("a call whose end the hooks never saw gets the run's error", async () => {
    const { hooks, records, runner } = hooksOnRunner();
    // The tool stops the hooks listening before it throws, so its end event never reaches them.
    const detaching = tool({
      name: "explode",
      description: "Fails.",
      parameters: z.object({}),
      errorFunction: null,
      execute: async () => {
        hooks.detach(runner);
        throw new Error("gone quiet");
      },
    });
    const { record, rejection } = await recordOf(hooks, records, agentCalling([detaching]));
    expect(callNamed(record, "explode")).toMatchObject({ error: (rejection as Error).message });
    expect(callNamed(record, "explode")).not.toHaveProperty("output");
  });
});
