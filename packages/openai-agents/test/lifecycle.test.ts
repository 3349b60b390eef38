// Session lifecycle through the hooks: onSessionStart/onSessionEnd and the limits given to
// SessionHooks reach the manager they build, fire on real Runner runs with scripted models on an
// injected clock, and never fail a run.
import { Agent, Runner, setTracingDisabled } from "@openai/agents";
import { assistantMessage } from "@openai/agents/testing";
import type { SessionEndEvent, SessionStartEvent } from "@threadline/session-core";
import { GUIDE_EPOCH } from "@threadline/session-core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import type { SessionHooks } from "../src/index.js";
import { echoAgent, lastUserText, modelOf, replyingModel, textsOf } from "./support/agents.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));

/** What the callbacks saw, in the order they ran. */
type Heard = Array<{ start: SessionStartEvent } | { end: SessionEndEvent }>;

/** The two ways an app runs an agent with the hooks. */
const ways: Array<{
  name: string;
  run: (hooks: SessionHooks, runner: Runner, agent: Agent, input: string, userId: string) => Promise<unknown>;
}> = [
  { name: "hooks.run()", run: (hooks, _runner, agent, input, userId) => hooks.run(agent, input, { userId }) },
  {
    name: "runner.run() with the hooks attached",
    run: (_hooks, runner, agent, input, userId) => runner.run(agent, input, { context: { userId } }),
  },
];

describe.each(ways)("lifecycle callbacks through $name", ({ run }) => {
  it("start on the first run, end (expired) before the next start when the user comes back", async () => {
    const heard: Heard = [];
    const { clock, hooks, runner, failures } = hooksOnRunner({
      inactivityTimeout: 120,
      onSessionStart: (start) => void heard.push({ start }),
      onSessionEnd: (end) => void heard.push({ end }),
    });
    const agent = echoAgent();

    await run(hooks, runner, agent, "Hello", "user-123");
    await hooks.flush();
    expect(heard).toEqual([
      { start: { session: expect.objectContaining({ sessionId: "support-user-123-20250107-120000", turns: 1 }) } },
    ]);

    clock.advance(30);
    await run(hooks, runner, agent, "Still there?", "user-123");
    await hooks.flush();
    expect(heard).toHaveLength(1); // a renewal starts and ends nothing

    clock.advance(121);
    await run(hooks, runner, agent, "Back again", "user-123");
    await hooks.flush();
    expect(heard.slice(1)).toEqual([
      {
        end: {
          session: expect.objectContaining({ sessionId: "support-user-123-20250107-120000", turns: 2 }),
          reason: "expired",
          endedAt: GUIDE_EPOCH + 30_000 + 120_000, // the last run plus the timeout
        },
      },
      {
        start: {
          session: expect.objectContaining({ sessionId: "support-user-123-20250107-120231", isNew: true }),
          previousSessionId: "support-user-123-20250107-120000",
        },
      },
    ]);
    expect(failures).toEqual([]);
  });

  it("a throwing onSessionStart and a rejecting onSessionEnd never fail a run; onError hears both", async () => {
    const { clock, hooks, runner, failures, records } = hooksOnRunner({
      onSessionStart: () => {
        throw new Error("analytics down");
      },
      onSessionEnd: async () => {
        throw new Error("summary service down");
      },
    });
    const agent = echoAgent();
    await run(hooks, runner, agent, "Hello", "user-1");
    clock.advance(121);
    const result = (await run(hooks, runner, agent, "Back again", "user-1")) as { finalOutput?: unknown };
    expect(result.finalOutput).toBe("Support Bot heard: Back again");
    await hooks.flush();

    expect(records.map((record) => record.output)).toEqual([
      "Support Bot heard: Hello",
      "Support Bot heard: Back again",
    ]);
    const heard = failures.map(({ error, context }) => ({ message: error.message, context }));
    expect(heard).toHaveLength(3);
    expect(heard).toEqual(
      expect.arrayContaining([
        {
          message: "analytics down",
          context: { operation: "onSessionStart", userId: "user-1", sessionId: "support-user-1-20250107-120000" },
        },
        {
          message: "summary service down",
          context: { operation: "onSessionEnd", userId: "user-1", sessionId: "support-user-1-20250107-120000" },
        },
        {
          message: "analytics down",
          context: { operation: "onSessionStart", userId: "user-1", sessionId: "support-user-1-20250107-120201" },
        },
      ]),
    );
  });
});

describe("maxTurns through the hooks", () => {
  it("one run is one turn: the run that would be turn maxTurns + 1 starts a new session, with fresh memory", async () => {
    const ends: SessionEndEvent[] = [];
    const { clock, hooks } = hooksOnRunner({ maxTurns: 2, onSessionEnd: (end) => void ends.push(end) });
    const agent = echoAgent();
    const first = await hooks.run(agent, "one", { userId: "user-1" });
    clock.advance(1);
    const second = await hooks.run(agent, "two", { userId: "user-1" });
    clock.advance(1);
    const third = await hooks.run(agent, "three", { userId: "user-1" });
    await hooks.flush();

    const [a, b, c] = await Promise.all([first, second, third].map((result) => hooks.sessionOf(result)));
    expect(b?.sessionId).toBe(a?.sessionId);
    expect(c).toMatchObject({ isNew: true, turns: 1, previousSessionId: a?.sessionId });
    expect(ends).toEqual([
      {
        session: expect.objectContaining({ sessionId: a?.sessionId, turns: 2 }),
        reason: "max-turns",
        endedAt: GUIDE_EPOCH + 2000,
      },
    ]);
    // The memory went with the session: the third run's model saw only its own message.
    expect(textsOf(modelOf(agent).lastCall?.request.input ?? [])).toEqual(["three"]);
  });

  it("the README's summary at session end: onRecord collects the transcript, onSessionEnd summarizes it", async () => {
    const summaries: Array<{ userId: string; sessionId: string; reason: string; summary: string }> = [];
    const transcripts = new Map<string, string[]>();
    // The summarizer runs on a Runner of its own, so the hooks do not file its runs as a user's.
    const summaryRunner = new Runner();
    const summarizer = new Agent({
      name: "Summarizer",
      instructions: "Summarize this support conversation in one sentence.",
      model: replyingModel((input) => [assistantMessage(`summary of ${lastUserText(input).split("\n").length} lines`)]),
    });
    const { clock, hooks, failures } = hooksOnRunner({
      maxTurns: 2,
      onRecord: (record) => {
        if (record.sessionId === null) return;
        const lines = transcripts.get(record.sessionId) ?? [];
        lines.push(`user: ${String(record.input)}`, `assistant: ${String(record.output)}`);
        transcripts.set(record.sessionId, lines);
      },
      onSessionEnd: async ({ session, reason }) => {
        const lines = transcripts.get(session.sessionId);
        transcripts.delete(session.sessionId);
        if (lines === undefined || reason === "forgotten") return;
        const result = await summaryRunner.run(summarizer, lines.join("\n"));
        summaries.push({
          userId: session.userId,
          sessionId: session.sessionId,
          reason,
          summary: String(result.finalOutput),
        });
      },
    });
    const agent = echoAgent();
    for (const message of ["my bill is wrong", "I paid twice", "thanks"]) {
      await hooks.run(agent, message, { userId: "ana" });
      await hooks.flush(); // records are delivered in the background
      clock.advance(5);
    }
    expect(summaries).toEqual([
      { userId: "ana", sessionId: "support-ana-20250107-120000", reason: "max-turns", summary: "summary of 4 lines" },
    ]);
    expect([...transcripts.keys()]).toEqual(["support-ana-20250107-120010"]); // only the live session's
    expect(failures).toEqual([]);
  });
});
