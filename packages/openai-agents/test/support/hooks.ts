import { Runner } from "@openai/agents";
import type { ErrorContext, RunRecord } from "@threadline/session-core";
import { createFakeClock, type FakeClock } from "@threadline/session-core/testing";
import { SessionHooks } from "../../src/index.js";

/** Hooks in namespace "support" on a fake clock, attached to a fresh Runner, collecting records and failures. */
export function hooksOnRunner(options: ConstructorParameters<typeof SessionHooks>[0] = {}): {
  clock: FakeClock;
  records: RunRecord[];
  errors: Error[];
  failures: { error: Error; context: ErrorContext }[];
  hooks: SessionHooks;
  runner: Runner;
} {
  const clock = createFakeClock();
  const records: RunRecord[] = [];
  const failures: { error: Error; context: ErrorContext }[] = [];
  const errors: Error[] = [];
  const hooks = new SessionHooks({
    namespace: "support",
    now: clock.now,
    onRecord: (record) => {
      records.push(record);
    },
    onError: (error, context) => {
      errors.push(error);
      failures.push({ error, context });
    },
    ...options,
  });
  const runner = new Runner();
  hooks.attach(runner);
  return { clock, records, errors, failures, hooks, runner };
}
