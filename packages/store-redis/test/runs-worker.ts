// One OS process of the run records tests: connects its own client, says "ready", and on each job
// adds one run record `calls` times at once (a redelivered record), then reports the totals it got.
import { type RunRecord, SessionManager, type SessionTotals } from "@threadline/session-core";
import { redisStore } from "../src/index.js";
import { connectCluster, connectSingle, type Flavor } from "./clients.js";

/** Sent by the test to set the worker up. */
export interface RunsWorkerSetup {
  flavor: Flavor;
  url?: string;
  clusterNodes?: string[];
  keyPrefix: string;
}

/** One burst: the same record, `calls` times concurrently. */
export interface RunsWorkerJob {
  record: RunRecord;
  calls: number;
}

/** What a worker reports: the totals each call returned, and the failures. */
export interface RunsWorkerResult {
  totals: SessionTotals[];
  errors: string[];
}

const send = (message: unknown) => process.send?.(message);

process.once("message", async (setup: RunsWorkerSetup) => {
  const connection = setup.clusterNodes
    ? await connectCluster(setup.flavor, setup.clusterNodes)
    : await connectSingle(setup.flavor, setup.url as string);
  const store = redisStore({ client: connection.client, keyPrefix: setup.keyPrefix });
  process.on("message", async (message: RunsWorkerJob | "exit") => {
    if (message === "exit") {
      await connection.close();
      process.exit(0);
    }
    const sessions = new SessionManager({ store, namespace: message.record.namespace, cleanupInterval: 0 });
    const result: RunsWorkerResult = { totals: [], errors: [] };
    const outcomes = await Promise.allSettled(
      Array.from({ length: message.calls }, () => sessions.addRunRecord(message.record)),
    );
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") result.totals.push(outcome.value);
      else result.errors.push(String(outcome.reason));
    }
    send(result);
  });
  send("ready");
});
