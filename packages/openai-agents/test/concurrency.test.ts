// 50 concurrent runs for 10 users on ONE Runner: the origin kept per-run state on the hooks
// object, so concurrent users mixed. Here every run's session and record must be its own user's.
import { setTracingDisabled } from "@openai/agents";
import type { RunRecord } from "@threadline/session-core";
import { beforeAll, describe, expect, it } from "vitest";
import { modelOf, textsOf, triageAgents } from "./support/agents.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));

const USERS = Array.from({ length: 10 }, (_, index) => `user-${index}`);
const RUNS = Array.from({ length: 50 }, (_, index) => ({
  user: USERS[index % USERS.length] as string,
  message: `${USERS[index % USERS.length]} asks #${index}`,
}));

/** The user a text was written by or about ("user-3 asks #13", "account of user-3 asks #13", …). */
function userIn(text: string): string | undefined {
  return /user-\d+/.exec(text)?.[0];
}

/** The users a list of texts mentions (handoff results and the like mention none). */
function usersIn(texts: string[]): Set<string> {
  return new Set(texts.map(userIn).filter((user) => user !== undefined));
}

function expectRecordsOfTheirOwnUsers(records: RunRecord[]) {
  expect(records).toHaveLength(RUNS.length);
  for (const record of records) {
    expect(userIn(String(record.input))).toBe(record.userId);
    expect(record.sessionId).toBe(`support-${record.userId}-20250107-120000`);
    expect(record.agents).toEqual(["Triage", "Billing"]);
    expect(record.handoffs).toEqual([{ from: "Triage", to: "Billing" }]);
    expect(record.toolCalls.map((call) => call.name)).toEqual(["lookup_account", "refund"]);
    for (const call of record.toolCalls) {
      expect(userIn(call.input ?? "")).toBe(record.userId);
      expect(userIn(String(call.output))).toBe(record.userId);
    }
    expect(record.output).toBe(`done: refunded account of ${record.input} (${record.input})`);
    expect(record.usage?.requests).toBe(4);
  }
  expect(new Set(records.map((record) => record.input)).size).toBe(RUNS.length);
}

describe("50 concurrent runs for 10 users on one Runner", () => {
  it("hooks only, user id in the run context", async () => {
    const { hooks, records, errors, runner } = hooksOnRunner();
    const { triage, billing } = triageAgents();
    const results = await Promise.all(
      RUNS.map(({ user, message }) => runner.run(triage, message, { context: { userId: user } })),
    );
    await hooks.flush();

    for (const [index, result] of results.entries()) {
      const session = await hooks.sessionOf(result);
      expect(session?.userId).toBe(RUNS[index]?.user);
      expect(result.finalOutput).toContain(RUNS[index]?.message);
    }
    expectRecordsOfTheirOwnUsers(records);
    expect(new Set(records.map((record) => record.sessionId)).size).toBe(USERS.length);
    // Every model call saw one user's conversation only.
    const calls = [...modelOf(triage).calls, ...modelOf(billing).calls];
    expect(calls).toHaveLength(RUNS.length * 4);
    for (const call of calls) expect(usersIn(textsOf(call.request.input)).size).toBe(1);
    expect(errors).toEqual([]);
  });

  it("run wrapper with memory: sessions, records and memories stay with their users", async () => {
    const { hooks, records, errors } = hooksOnRunner();
    const { triage } = triageAgents();
    const results = await Promise.all(RUNS.map(({ user, message }) => hooks.run(triage, message, { userId: user })));
    await hooks.flush();

    for (const [index, result] of results.entries()) {
      expect((await hooks.sessionOf(result))?.userId).toBe(RUNS[index]?.user);
    }
    expectRecordsOfTheirOwnUsers(records);
    for (const user of USERS) {
      const session = await hooks.sessionManager.resolve(user, "support");
      const texts = textsOf((await hooks.sessionManager.getItems(session)) as never);
      expect(texts.length).toBeGreaterThan(0);
      expect(usersIn(texts)).toEqual(new Set([user]));
      // All five of the user's messages are remembered.
      expect(texts.filter((text) => text.startsWith(`${user} asks`))).toHaveLength(5);
    }
    expect(errors).toEqual([]);
  });
});
