// Several OS processes, each a SessionManager with onSessionEnd and background cleanup on its
// own client, racing resolves, closes and cleanups on the same users: every session that ends is
// delivered once across all of them, none twice, none lost.
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GUIDE_EPOCH, uniqueNamespace } from "@threadline/session-core/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Flavor } from "./clients.js";
import type { LifecycleJob, LifecycleResult, LifecycleWorkerSetup } from "./lifecycle-worker.js";
import { nextMessage, startWorkers, stopWorkers } from "./processes.js";

const PROCESSES = 3;
const workerPath = fileURLToPath(new URL("./lifecycle-worker.ts", import.meta.url));
const users = ["u0", "u1", "u2", "u3", "u4", "u5"];

describe.each([
  ["ioredis@5", "single node"],
  ["redis@5", "cluster"],
] as const)("%s, %s, %i processes", (flavor: Flavor, topology) => {
  let workers: ChildProcess[] = [];
  const keyPrefix = `processes-${uniqueNamespace()}:`;
  const namespace = uniqueNamespace();

  beforeAll(async () => {
    const setup: LifecycleWorkerSetup =
      topology === "cluster"
        ? { flavor, clusterNodes: inject("clusterNodes"), keyPrefix, namespace }
        : { flavor, url: inject("redisUrl"), keyPrefix, namespace };
    workers = await startWorkers(workerPath, PROCESSES, setup);
  }, 60_000);

  afterAll(async () => {
    await stopWorkers(workers);
  });

  /** Sends each worker its job at once and gathers their results. */
  async function round(jobs: LifecycleJob[]): Promise<LifecycleResult[]> {
    const results = workers.map((worker) => nextMessage<LifecycleResult>(worker));
    workers.forEach((worker, index) => {
      worker.send(jobs[index] as LifecycleJob);
    });
    return Promise.all(results);
  }

  it("delivers every ended session's end exactly once across the processes", async () => {
    // Random steps of shared fake time (within and past the 10 s timeout, past the 30 s maximum
    // duration over a few rounds), random users per process, closes, and explicit cleanups on top
    // of each process's background ones.
    const plan = fc.sample(
      fc.array(
        fc.record({
          advance: fc.integer({ min: 0, max: 12_000 }),
          jobs: fc.array(
            fc.record({
              resolves: fc.array(fc.constantFrom(...users), { maxLength: 10 }),
              closes: fc.array(fc.constantFrom(...users), { maxLength: 1 }),
              cleanup: fc.boolean(),
            }),
            { minLength: PROCESSES, maxLength: PROCESSES },
          ),
        }),
        { minLength: 40, maxLength: 40 },
      ),
      { numRuns: 1, seed: 13 },
    )[0] as Array<{ advance: number; jobs: Array<Omit<LifecycleJob, "now">> }>;

    let now = GUIDE_EPOCH;
    const started: string[] = [];
    const ends: LifecycleResult["ends"] = [];
    const errors: string[] = [];
    const collect = (results: LifecycleResult[]) => {
      for (const result of results) {
        started.push(...result.started);
        ends.push(...result.ends);
        errors.push(...result.errors);
      }
    };
    for (const step of plan) {
      now += step.advance;
      collect(await round(step.jobs.map((job) => ({ ...job, now }))));
    }
    // Everything has run out of time: racing cleanups in every process find what is left.
    now += 60_000;
    collect(await round(workers.map(() => ({ now, resolves: [], closes: [], cleanup: true }))));

    expect(errors).toEqual([]);
    expect(new Set(started).size).toBe(started.length);
    expect(started.length).toBeGreaterThan(30);
    const endedIds = ends.map((end) => end.sessionId);
    // Once each: no end twice (across processes or within one), none lost.
    expect(new Set(endedIds).size).toBe(endedIds.length);
    expect([...endedIds].sort()).toEqual([...started].sort());
    const reasons = new Set(ends.map((end) => end.reason));
    for (const reason of ["expired", "closed", "max-turns"]) expect(reasons).toContain(reason);
  }, 120_000);
});
