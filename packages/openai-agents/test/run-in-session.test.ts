// `runInSession`: the app's wrapper around the actual Runner call, given the resolved session
// (what `withSession` of @threadline/otel needs). It sets up context and never decides the run's
// outcome: a wrapper that fails is reported, and the run goes on or settles as it would have.
import { AsyncLocalStorage } from "node:async_hooks";
import { Agent, type ModelRequest, type ModelResponse, setTracingDisabled, tool } from "@openai/agents";
import { assistantMessage, functionCall, modelResponse, ScriptedModel } from "@openai/agents/testing";
import { type ResolvedSession, SessionError } from "@threadline/session-core";
import { faultyStore } from "@threadline/session-core/testing";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { RunInSession } from "../src/index.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));

/** What the wrapper puts in place, as an OTel context manager would: read by the model and the tool. */
const scope = new AsyncLocalStorage<ResolvedSession>();

/** What happened, in order: the wrapper, model calls and tool calls, each with the session it saw. */
let events: string[] = [];
beforeEach(() => {
  events = [];
});

const seen = () => scope.getStore()?.sessionId ?? "no session";

/** A ScriptedModel that logs each call with the session in scope. */
class ScopedModel extends ScriptedModel {
  override getResponse(request: ModelRequest): Promise<ModelResponse> {
    events.push(`model: ${seen()}`);
    return super.getResponse(request);
  }
  override getStreamedResponse(request: ModelRequest): ReturnType<ScriptedModel["getStreamedResponse"]> {
    events.push(`model: ${seen()}`);
    return super.getStreamedResponse(request);
  }
}

/** Calls a tool, then answers; logs the session each step sees. */
function weatherAgent(): Agent {
  const weather = tool({
    name: "weather",
    description: "The weather in a city.",
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      await new Promise((resolve) => setImmediate(resolve)); // across a macrotask, as real I/O would
      events.push(`tool: ${seen()}`);
      return `Sunny in ${city}`;
    },
  });
  return new Agent({
    name: "Weather",
    instructions: "Answer about the weather.",
    tools: [weather],
    model: new ScopedModel([
      modelResponse([functionCall("weather", { city: "Lisbon" }, { callId: "call-1" })]),
      modelResponse([assistantMessage("Sunny.")]),
    ]),
  });
}

/** A model that throws `error`. */
function brokenAgent(error: Error): Agent {
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

/** The wrapper most apps write: the session in scope for the whole run. */
const inScope: RunInSession = (session, run) => {
  events.push(`wrapper: ${session.sessionId}`);
  return scope.run(session, run);
};

/** Unhandled rejections while a test runs (a wrapper that drops a promise must not cause one). */
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", onUnhandled);
});
afterEach(async () => {
  await new Promise((resolve) => setImmediate(resolve)); // let Node report any before looking
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
});

describe("runInSession", () => {
  it("sees the resolved session before the run starts; the model and tools run inside it", async () => {
    const { hooks, records } = hooksOnRunner({ runInSession: inScope });
    const result = await hooks.run(weatherAgent(), "Weather in Lisbon?", { userId: "ana" });
    expect(result.finalOutput).toBe("Sunny.");
    const session = await hooks.sessionOf(result);
    expect(session?.sessionId).toBe("support-ana-20250107-120000");
    const id = session?.sessionId;
    expect(events).toEqual([`wrapper: ${id}`, `model: ${id}`, `tool: ${id}`, `model: ${id}`]);
    await hooks.flush();
    expect(records).toHaveLength(1); // the run happened once
  });

  it("gets the same session object the hooks resolved, once per run (no second resolve)", async () => {
    const sessions: ResolvedSession[] = [];
    const { hooks } = hooksOnRunner({
      runInSession: (session, run) => {
        sessions.push(session);
        return run();
      },
    });
    const result = await hooks.run(weatherAgent(), "Hi", { userId: "ana" });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toBe(await hooks.sessionOf(result));
    expect((await hooks.sessionManager.getSessionInfo("ana"))?.turns).toBe(1);
  });

  it("keeps concurrent runs of different users apart", async () => {
    const { hooks } = hooksOnRunner({ runInSession: inScope });
    const users = ["ana", "bruno", "carla", "davi", "eva", "fabio"];
    await Promise.all(users.map((userId) => hooks.run(weatherAgent(), "Weather?", { userId })));
    for (const userId of users) {
      const id = `support-${userId}-20250107-120000`;
      expect(events.filter((event) => event.endsWith(id))).toHaveLength(4); // wrapper, model, tool, model
    }
    expect(events.filter((event) => event.endsWith("no session"))).toEqual([]);
  });

  it("a run's own runInSession replaces the hooks' one", async () => {
    const { hooks } = hooksOnRunner({ runInSession: inScope });
    await hooks.run(weatherAgent(), "Hi", {
      userId: "ana",
      runInSession: (session, run) => {
        events.push(`per-run: ${session.userId}`);
        return run();
      },
    });
    expect(events).toEqual(["per-run: ana", "model: no session", "tool: no session", "model: no session"]);
  });

  it("wraps streamed runs until the stream is done", async () => {
    const { hooks } = hooksOnRunner({ runInSession: inScope });
    const result = await hooks.run(weatherAgent(), "Weather?", { userId: "ana", stream: true });
    for await (const _event of result.toStream()) {
      // drain
    }
    await result.completed;
    expect(result.finalOutput).toBe("Sunny.");
    expect(events.filter((event) => event.endsWith("no session"))).toEqual([]);
    expect(events).toHaveLength(4);
  });

  it("is not called for a run without a session (the store is down)", async () => {
    const store = faultyStore();
    const { hooks, failures } = hooksOnRunner({ store, runInSession: inScope });
    store.fail();
    const result = await hooks.run(weatherAgent(), "Hi", { userId: "ana" });
    expect(result.finalOutput).toBe("Sunny.");
    expect(events[0]).toBe("model: no session");
    expect(failures.map((failure) => failure.context.operation)).toEqual(["resolve"]);
  });

  it("refuses a wrapper that is not a function with INVALID_OPTION, before any model call", async () => {
    expect(() => hooksOnRunner({ runInSession: "withSession" as never })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
    const { hooks } = hooksOnRunner();
    const rejection = await hooks
      .run(weatherAgent(), "Hi", { userId: "ana", runInSession: {} as never })
      .catch((error: unknown) => error);
    expect(SessionError.isInstance(rejection) && rejection.code).toBe("INVALID_OPTION");
    expect(events).toEqual([]);
  });
});

describe("a failing runInSession never changes the run's outcome", () => {
  const wrapperBug = new Error("wrapper bug");

  const cases: [string, RunInSession][] = [
    [
      "throws synchronously before run()",
      () => {
        throw wrapperBug;
      },
    ],
    ["rejects before run()", async () => Promise.reject(wrapperBug)],
  ];
  for (const [label, runInSession] of cases) {
    it(`${label}: the run goes on without it, the error goes to onError`, async () => {
      const { hooks, failures, records } = hooksOnRunner({ runInSession });
      const result = await hooks.run(weatherAgent(), "Weather?", { userId: "ana" });
      expect(result.finalOutput).toBe("Sunny.");
      await hooks.flush();
      expect(records).toHaveLength(1);
      expect(records[0]?.error).toBeUndefined();
      expect(failures).toHaveLength(1);
      expect(failures[0]?.error).toBe(wrapperBug);
      expect(failures[0]?.context).toEqual({
        operation: "runInSession",
        userId: "ana",
        sessionId: "support-ana-20250107-120000",
        runId: records[0]?.runId,
      });
    });
  }

  it("returns without calling run(): the run goes on, INVALID_OPTION goes to onError", async () => {
    const { hooks, failures } = hooksOnRunner({ runInSession: async () => undefined as never });
    const result = await hooks.run(weatherAgent(), "Weather?", { userId: "ana" });
    expect(result.finalOutput).toBe("Sunny.");
    expect(failures).toHaveLength(1);
    expect(failures[0]?.error).toMatchObject({ code: "INVALID_OPTION", message: expect.stringContaining("run()") });
  });

  it("throws after the run succeeded: the caller gets the result, onError the wrapper's error", async () => {
    const { hooks, failures, records } = hooksOnRunner({
      runInSession: async (_session, run) => {
        await run();
        throw wrapperBug;
      },
    });
    const result = await hooks.run(weatherAgent(), "Weather?", { userId: "ana" });
    expect(result.finalOutput).toBe("Sunny.");
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(failures.map((failure) => [failure.error, failure.context.operation])).toEqual([
      [wrapperBug, "runInSession"],
    ]);
  });

  it("passes a failed run's error on: the caller gets the run's own error, one record, nothing for the wrapper", async () => {
    const modelDown = new Error("model down");
    const { hooks, failures, records } = hooksOnRunner({ runInSession: inScope });
    const rejection = await hooks.run(brokenAgent(modelDown), "Hi", { userId: "ana" }).catch((error: unknown) => error);
    expect(rejection).toBe(modelDown);
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(records[0]?.error).toBe("model down");
    expect(failures).toEqual([]);
  });

  it("replaces a failed run's error with its own: the caller still gets the run's error; the wrapper's is reported", async () => {
    const modelDown = new Error("model down");
    const { hooks, failures, records } = hooksOnRunner({
      runInSession: async (_session, run) => {
        try {
          return await run();
        } catch (error) {
          throw new Error("wrapped", { cause: error });
        }
      },
    });
    const rejection = await hooks.run(brokenAgent(modelDown), "Hi", { userId: "ana" }).catch((error: unknown) => error);
    expect(rejection).toBe(modelDown);
    await hooks.flush();
    expect(records).toHaveLength(1);
    expect(failures.map((failure) => (failure.error as Error).message)).toEqual(["wrapped"]);
  });

  it("drops the run's promise and throws: no unhandled rejection, the caller gets the run's error", async () => {
    const modelDown = new Error("model down");
    const { hooks, failures } = hooksOnRunner({
      runInSession: (_session, run) => {
        void run(); // started, then dropped: the hooks still await it and mark it handled
        throw wrapperBug;
      },
    });
    const rejection = await hooks.run(brokenAgent(modelDown), "Hi", { userId: "ana" }).catch((error: unknown) => error);
    expect(rejection).toBe(modelDown);
    expect(failures.map((failure) => failure.error)).toEqual([wrapperBug]);
  });

  it("calls run() twice: the agent runs once, both calls get the same result", async () => {
    const results: unknown[] = [];
    const { hooks, records } = hooksOnRunner({
      runInSession: async (_session, run) => {
        results.push(await run(), await run());
        return run();
      },
    });
    const result = await hooks.run(weatherAgent(), "Weather?", { userId: "ana" });
    await hooks.flush();
    expect(results).toEqual([result, result]);
    expect(records).toHaveLength(1);
    expect(events.filter((event) => event.startsWith("model"))).toHaveLength(2); // one tool call, one answer
  });
});
