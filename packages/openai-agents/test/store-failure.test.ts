// A store outage must never break a run: listeners are not awaited by the SDK, a throw aborts
// the run and a stray rejection crashes Node. Runs go on; onError gets a SessionError.
import { Agent, Runner, setTracingDisabled, tool } from "@openai/agents";
import { assistantMessage, functionCall, modelResponse, ScriptedModel } from "@openai/agents/testing";
import { SessionError } from "@threadline/session-core";
import { type FaultyStore, faultyStore } from "@threadline/session-core/testing";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { SessionHooks } from "../src/index.js";
import { echoAgent } from "./support/agents.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));
afterEach(() => vi.restoreAllMocks());

function setup() {
  const store = faultyStore();
  return { store, ...hooksOnRunner({ store }) };
}

/** An agent whose tool takes the store down in the middle of the run. */
function agentThatBreaksTheStore(store: FaultyStore): Agent {
  const breakStore = tool({
    name: "break_store",
    description: "Takes the session store down.",
    parameters: z.object({}),
    execute: async () => {
      store.fail();
      return "store is down";
    },
  });
  return new Agent({
    name: "Saboteur",
    instructions: "Break things.",
    tools: [breakStore],
    // A strict script: one tool call, then the answer.
    model: new ScriptedModel([
      modelResponse([functionCall("break_store", {}, { callId: "break-1" })]),
      modelResponse([assistantMessage("finished anyway")]),
    ]),
  });
}

describe("store down", () => {
  it("before the run (hooks): the run completes, onError sees a SessionError, the record has no session", async () => {
    const { store, records, failures, hooks, runner } = setup();
    store.fail();
    const result = await runner.run(echoAgent(), "Hello", { context: { userId: "ana" } });
    expect(result.finalOutput).toBe("Support Bot heard: Hello");
    await hooks.flush();
    expect(failures).toHaveLength(1);
    expect(SessionError.isInstance(failures[0]?.error)).toBe(true);
    expect(failures[0]?.error).toMatchObject({ code: "STORE_UNAVAILABLE", retryable: true });
    expect(failures[0]?.context).toEqual({ operation: "resolve", userId: "ana", runId: records[0]?.runId });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ sessionId: null, userId: "ana", output: "Support Bot heard: Hello" });
    expect(await hooks.sessionOf(result)).toBeUndefined();
  });

  it("mid-run (wrapper with memory): the run completes, the memory write fails into onError", async () => {
    const { store, records, failures, hooks } = setup();
    const result = await hooks.run(agentThatBreaksTheStore(store), "Go", { userId: "bruno" });
    expect(result.finalOutput).toBe("finished anyway");
    await hooks.flush();
    // The session resolved and the history was read before the tool ran; saving the turn failed.
    expect(failures).toHaveLength(1);
    expect(SessionError.isInstance(failures[0]?.error)).toBe(true);
    expect(failures[0]?.error).toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect(failures[0]?.context).toEqual({
      operation: "memory",
      userId: "bruno",
      sessionId: expect.stringContaining("bruno"),
      runId: records[0]?.runId,
    });
    expect(records[0]).toMatchObject({ sessionId: expect.stringContaining("bruno"), output: "finished anyway" });
  });

  it("before the run (wrapper): the run completes without session, memory or trace group", async () => {
    const { store, failures, hooks } = setup();
    store.fail();
    const result = await hooks.run(echoAgent(), "Hello", { userId: "carla" });
    expect(result.finalOutput).toBe("Support Bot heard: Hello");
    expect(failures.map(({ context }) => context.operation)).toEqual(["resolve"]);
    expect(store.calls["items.list"]).toBe(0); // no memory without a session
    store.recover();
    // Back up: the next run gets a session again.
    const next = await hooks.run(echoAgent(), "Hello again", { userId: "carla" });
    expect((await hooks.sessionOf(next))?.userId).toBe("carla");
  });

  it("a store that fails with a plain Error is reported as a SessionError (STORE_ERROR)", async () => {
    const { store, errors, hooks, runner } = setup();
    store.fail({ code: "bare-error", operations: ["resolve"] });
    const result = await runner.run(echoAgent(), "Hello", { context: { userId: "dora" } });
    expect(result.finalOutput).toBe("Support Bot heard: Hello");
    await hooks.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "STORE_ERROR", name: "SessionError", retryable: false });
  });

  it("by default logs the first failure of each kind once and keeps running", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const store = faultyStore();
    store.fail();
    const hooks = new SessionHooks({ store });
    const runner = new Runner();
    hooks.attach(runner);
    for (const userId of ["a", "b", "c"]) {
      const result = await runner.run(echoAgent(), "Hi", { context: { userId } });
      expect(result.finalOutput).toBe("Support Bot heard: Hi");
    }
    await hooks.flush();
    expect(log).toHaveBeenCalledTimes(1);
    expect(String(log.mock.calls[0]?.[0])).toContain("[threadline] [openai-agents] resolve failed");
  });

  it("a throwing onError is swallowed", async () => {
    const store = faultyStore();
    store.fail();
    const hooks = new SessionHooks({
      store,
      onError: () => {
        throw new Error("handler bug");
      },
    });
    const runner = new Runner();
    hooks.attach(runner);
    const result = await runner.run(echoAgent(), "Hi", { context: { userId: "eva" } });
    expect(result.finalOutput).toBe("Support Bot heard: Hi");
    await hooks.flush();
  });
});
