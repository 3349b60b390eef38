// Carry-over through the adapter's one option: a user's new session starts with what `seed` makes
// of the ended one, once, and memory crosses no session without it.
import { setTracingDisabled } from "@openai/agents";
import { createFakeClock } from "@threadline/session-core/testing";
import { afterEach, beforeAll, expect, it, vi } from "vitest";
import { SessionHooks } from "../src/index.js";
import { echoAgent, modelOf, textsOf } from "./support/agents.js";

beforeAll(() => setTracingDisabled(true));
afterEach(() => vi.restoreAllMocks());

it("the next session starts with the seed (awaited before the run), handed the old items once", async () => {
  const clock = createFakeClock();
  const seeds: { previousSessionId: string; texts: string[] }[] = [];
  const hooks = new SessionHooks({
    namespace: "support",
    now: clock.now,
    onError: (error) => {
      throw error;
    },
    carryOver: {
      seed: async ({ previousSessionId, items }) => {
        await new Promise((resolve) => setImmediate(resolve)); // a slow summarizer
        seeds.push({ previousSessionId, texts: textsOf(items as never) });
        return [{ role: "system", content: "Summary: the user is Ana." }];
      },
    },
  });
  const agent = echoAgent();
  const seen = () => textsOf(modelOf(agent).lastCall?.request.input ?? []);
  const first = await hooks.run(agent, "My name is Ana", { userId: "ana" });
  clock.advance(121);
  const second = await hooks.run(agent, "Who am I?", { userId: "ana" });
  expect(seen()).toEqual(["Summary: the user is Ana.", "Who am I?"]);
  expect(seeds).toEqual([
    {
      previousSessionId: (await hooks.sessionOf(first))?.sessionId,
      texts: ["My name is Ana", "Support Bot heard: My name is Ana"],
    },
  ]);
  expect((await hooks.sessionOf(second))?.previousSessionId).toBe((await hooks.sessionOf(first))?.sessionId);
  // Within the new session the summary is history like any other; no second seeding.
  await hooks.run(agent, "And again?", { userId: "ana" });
  expect(seen()[0]).toBe("Summary: the user is Ana.");
  expect(seeds).toHaveLength(1);
});

it("without carryOver, nothing crosses: the next session starts empty", async () => {
  const clock = createFakeClock();
  const hooks = new SessionHooks({ namespace: "support", now: clock.now });
  const agent = echoAgent();
  await hooks.run(agent, "My name is Ana", { userId: "ana" });
  clock.advance(121);
  await hooks.run(agent, "Who am I?", { userId: "ana" });
  expect(textsOf(modelOf(agent).lastCall?.request.input ?? [])).toEqual(["Who am I?"]);
});

it("a failing seed goes to onError (carryOver) and the new session starts empty; the run goes on", async () => {
  const clock = createFakeClock();
  const errors: [unknown, string][] = [];
  const hooks = new SessionHooks({
    namespace: "support",
    now: clock.now,
    onError: (error, context) => errors.push([error, context.operation]),
    carryOver: {
      seed: () => {
        throw new Error("summarizer down");
      },
    },
  });
  const agent = echoAgent();
  await hooks.run(agent, "My name is Ana", { userId: "ana" });
  clock.advance(121);
  const result = await hooks.run(agent, "Who am I?", { userId: "ana" });
  expect(result.finalOutput).toBe("Support Bot heard: Who am I?");
  expect(textsOf(modelOf(agent).lastCall?.request.input ?? [])).toEqual(["Who am I?"]);
  expect(errors.map(([, operation]) => operation)).toEqual(["carryOver"]);
});
