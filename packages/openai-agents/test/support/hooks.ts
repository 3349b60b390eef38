import { Runner } from "@openai/agents";
import { createFakeClock, type FakeClock } from "@threadline/session-core/testing";
import { type RunRecord, SessionHooks } from "../../src/index.js";

/** Hooks in namespace "support" on a fake clock, attached to a fresh Runner, collecting records and errors. */
export function hooksOnRunner(options: ConstructorParameters<typeof SessionHooks>[0] = {}): {
  clock: FakeClock;
  records: RunRecord[];
  errors: unknown[];
  hooks: SessionHooks;
  runner: Runner;
} {
  const clock = createFakeClock();
  const records: RunRecord[] = [];
  const errors: unknown[] = [];
  const hooks = new SessionHooks({
    namespace: "support",
    now: clock.now,
    onRecord: (record) => {
      records.push(record);
    },
    onError: (error) => errors.push(error),
    ...options,
  });
  const runner = new Runner();
  hooks.attach(runner);
  return { clock, records, errors, hooks, runner };
}
