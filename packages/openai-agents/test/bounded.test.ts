// Nothing grows without a bound by default: the default (memory) store is cleaned by the manager
// in the background as runs resolve sessions, and per-run state is held weakly by the run's
// RunContext, so even runs that never end (a failed run emits no agent_end) leave nothing behind.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Agent, Runner, setTracingDisabled } from "@openai/agents";
import type { MemoryStore, RunRecord } from "@threadline/session-core";
import { DEFAULT_MAX_VALUE_LENGTH } from "@threadline/session-core/adapter-kit";
import { beforeAll, expect, it } from "vitest";
import { SessionHooks } from "../src/index.js";
import { echoAgent } from "./support/agents.js";
import { hooksOnRunner } from "./support/hooks.js";

beforeAll(() => setTracingDisabled(true));

it("200 users, an hour later: the default store holds only live sessions", async () => {
  const { clock, hooks, runner } = hooksOnRunner({ store: undefined, onRecord: undefined });
  const store = hooks.sessionManager.store as MemoryStore; // the default one the hooks built
  const agent = echoAgent();
  for (let user = 0; user < 200; user++) {
    await runner.run(agent, "Hello", { context: { userId: `user-${user}` } });
  }
  await hooks.run(agent, "Hello", { userId: "wrapper-user" });
  await hooks.flush();
  expect(store.size).toBe(201);

  clock.advance(3600);
  await runner.run(agent, "Back after an hour", { context: { userId: "user-0" } });
  await hooks.flush(); // includes the manager's background cleanup
  expect(store.size).toBe(1);
  expect(await hooks.sessionManager.cleanupExpired()).toBe(0);
});

it("runs that never end leave no per-run state behind once their RunContext is gone", async () => {
  setFlagsFromString("--expose-gc");
  const collectGarbage = runInNewContext("gc") as () => void;
  const hooks = new SessionHooks({ onRecord: () => {} });
  const runner = new Runner();
  hooks.attach(runner);
  // Every model call throws, so no run reaches agent_end.
  const failing = new Agent({
    name: "Broken",
    instructions: "Fail.",
    model: {
      async getResponse() {
        throw new Error("model down");
      },
      // biome-ignore lint/correctness/useYield: never called; the test does not stream.
      async *getStreamedResponse() {
        throw new Error("not used");
      },
    },
  });
  const contexts: WeakRef<object>[] = [];
  runner.on("agent_start", (runContext) => contexts.push(new WeakRef(runContext)));
  for (let run = 0; run < 50; run++) {
    await runner.run(failing, "Hello", { context: { userId: `user-${run}` } }).catch(() => {});
  }
  await hooks.flush();
  expect(contexts).toHaveLength(50);
  // WeakRef targets stay alive until the current job ends: let it end before collecting.
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  expect(contexts.filter((context) => context.deref() !== undefined)).toEqual([]);
});

it("keeps a run's texts bounded in its record, however large the message", async () => {
  const records: RunRecord[] = [];
  const { hooks } = hooksOnRunner({ onRecord: (record) => void records.push(record) });
  const huge = "x".repeat(1_000_000);
  await hooks.run(echoAgent(), huge, { userId: "user-1" });
  await hooks.flush();
  expect(records).toHaveLength(1);
  const [record] = records as [RunRecord];
  expect(typeof record.input === "string" && record.input.length).toBeLessThan(DEFAULT_MAX_VALUE_LENGTH + 100);
  expect(String(record.input)).toMatch(/^x+… \[truncated by threadline\]$/);
  expect(typeof record.output === "string" && record.output.length).toBeLessThan(DEFAULT_MAX_VALUE_LENGTH + 100);
});
