// Several OS processes, each with its own client, racing on one user: the scripts must make
// them behave as one SessionManager.
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SessionManager } from "@threadline/session-core";
import { uniqueNamespace } from "@threadline/session-core/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { redisStore } from "../src/index.js";
import { connectCluster, connectSingle, type Flavor, type TestClient } from "./clients.js";
import { nextMessage, startWorkers, stopWorkers } from "./processes.js";
import type { WorkerJob, WorkerResult, WorkerSetup } from "./race-worker.js";

const PROCESSES = 4;
const workerPath = fileURLToPath(new URL("./race-worker.ts", import.meta.url));

describe.each([
  ["ioredis@5", "single node"],
  ["redis@5", "cluster"],
] as const)("%s, %s, %i processes", (flavor: Flavor, topology) => {
  let workers: ChildProcess[] = [];
  let connection: TestClient;

  beforeAll(async () => {
    const setup: WorkerSetup =
      topology === "cluster" ? { flavor, clusterNodes: inject("clusterNodes") } : { flavor, url: inject("redisUrl") };
    workers = await startWorkers(workerPath, PROCESSES, setup);
    connection =
      topology === "cluster"
        ? await connectCluster(flavor, inject("clusterNodes"))
        : await connectSingle(flavor, inject("redisUrl"));
  }, 60_000);

  afterAll(async () => {
    await stopWorkers(workers);
    await connection?.close();
  });

  /** Sends the job to every worker at once and gathers their results. */
  async function race(job: WorkerJob): Promise<WorkerResult[]> {
    const results = workers.map((worker) => nextMessage<WorkerResult>(worker));
    for (const worker of workers) worker.send(job);
    return Promise.all(results);
  }

  it("gives hundreds of concurrent first calls from every process exactly one session", async () => {
    const job = { namespace: uniqueNamespace(), userId: "5511999999999", calls: 300, forceNew: false };
    const results = await race(job);
    const sessions = results.flatMap((result) => result.sessions);
    expect(results.flatMap((result) => result.errors)).toEqual([]);
    expect(sessions).toHaveLength(PROCESSES * job.calls);
    expect(new Set(sessions.map((session) => session.sessionId)).size).toBe(1);
    expect(sessions.filter((session) => session.isNew)).toHaveLength(1);
  });

  it("gives a storm of forceNew calls from every process distinct ids and one survivor", async () => {
    const job = { namespace: uniqueNamespace(), userId: "user-123", calls: 100, forceNew: true };
    const results = await race(job);
    const ids = results.flatMap((result) => result.sessions.map((session) => session.sessionId));
    expect(results.flatMap((result) => result.errors)).toEqual([]);
    expect(ids).toHaveLength(PROCESSES * job.calls);
    expect(new Set(ids).size).toBe(ids.length);
    const observer = new SessionManager({ store: redisStore({ client: connection.client }), namespace: job.namespace });
    const survivor = await observer.getSessionInfo(job.userId);
    expect(ids).toContain(survivor?.sessionId);
    // The survivor is the live session every process now resolves to.
    const again = await race({ ...job, calls: 5, forceNew: false });
    const resolved = new Set(again.flatMap((result) => result.sessions.map((session) => session.sessionId)));
    expect([...resolved]).toEqual([survivor?.sessionId]);
  });
});
