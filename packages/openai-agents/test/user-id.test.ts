// A user id the caller passes is theirs to get right: hooks.run rejects a bad one before the run
// (no model call, no anonymous run), while runner.run with hooks attached must never crash — the
// hooks only listen there, so they report the bad id to onError and the run goes on untracked.
import { setTracingDisabled } from "@openai/agents";
import { SessionError } from "@threadline/session-core";
import { faultyStore } from "@threadline/session-core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { echoAgent, modelOf, triageAgents } from "./support/agents.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));

const nullPrototype: unknown = Object.create(null);
const throwingToString = {
  toString() {
    throw new Error("toString exploded");
  },
};
const invalidUserIds: [string, unknown][] = [
  ["an empty string", ""],
  ["whitespace", "  "],
  ["a number", 42],
  ["null", null],
  ["a null-prototype object", nullPrototype],
  ["an object whose toString throws", throwingToString],
];

describe("hooks.run with an invalid user id", () => {
  it.each(invalidUserIds)("rejects %s with INVALID_USER_ID before the run starts", async (_name, userId) => {
    const { hooks, records, errors } = hooksOnRunner();
    const agent = echoAgent();
    const rejection = await hooks.run(agent, "Hello", { userId: userId as string }).catch((error: unknown) => error);
    expect(SessionError.isInstance(rejection)).toBe(true);
    expect(rejection).toMatchObject({
      code: "INVALID_USER_ID",
      source: "openai-agents",
      message: expect.stringContaining("hooks.run(agent, input, { userId })"),
    });
    expect(modelOf(agent).calls).toHaveLength(0);
    await hooks.flush();
    expect(records).toEqual([]);
    expect(errors).toEqual([]);
    expect(await hooks.sessionManager.getSessionInfo("anonymous", "support")).toBeNull();
  });

  it("rejects an invalid context.userId the same way", async () => {
    const { hooks } = hooksOnRunner();
    const agent = echoAgent();
    await expect(hooks.run(agent, "Hello", { context: { userId: 42 } })).rejects.toMatchObject({
      code: "INVALID_USER_ID",
      message: expect.stringContaining("hooks.run(…, { context: { userId } })"),
    });
    expect(modelOf(agent).calls).toHaveLength(0);
  });

  it("a store outage still never breaks the run", async () => {
    const store = faultyStore();
    const { hooks, failures } = hooksOnRunner({ store });
    store.fail();
    const result = await hooks.run(echoAgent(), "Hello", { userId: "ana" });
    expect(result.finalOutput).toBe("Support Bot heard: Hello");
    expect(failures.map(({ error, context }) => [(error as SessionError).code, context.operation])).toEqual([
      ["STORE_UNAVAILABLE", "resolve"],
    ]);
  });
});

describe("runner.run with hooks attached and an invalid context.userId", () => {
  it.each(invalidUserIds)("%s: the run completes, onError gets INVALID_USER_ID once", async (_name, userId) => {
    const { hooks, runner, records, failures } = hooksOnRunner();
    const { triage } = triageAgents(); // two agent activations: still one report
    const result = await runner.run(triage, "Refund please", { context: { userId } });
    expect(result.finalOutput).toContain("done: refunded");
    await hooks.flush();
    expect(failures).toHaveLength(1);
    expect(failures[0]?.error).toMatchObject({
      name: "SessionError",
      code: "INVALID_USER_ID",
      message: expect.stringContaining("context: { userId }"),
    });
    expect(failures[0]?.context).toEqual({ operation: "resolve" });
    // No session was made up for it, anonymous or otherwise, and no record under a guessed user.
    expect(records).toEqual([]);
    expect(await hooks.sessionOf(result)).toBeUndefined();
    expect(await hooks.sessionManager.getSessionInfo("anonymous", "support")).toBeNull();
  });
});
