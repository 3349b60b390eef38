// One OS process of the race test: connects its own client, says "ready", and on each job
// fires `calls` concurrent resolves for one user at once, then reports what it got.
import { SessionManager } from "@threadline/session-core";
import { redisStore } from "../src/index.js";
import { connectCluster, connectSingle, type Flavor } from "./clients.js";

/** Sent by the test to set the worker up. */
export interface WorkerSetup {
  flavor: Flavor;
  url?: string;
  clusterNodes?: string[];
}

/** One burst of calls. */
export interface WorkerJob {
  namespace: string;
  userId: string;
  calls: number;
  forceNew: boolean;
}

/** What a worker reports for a job. */
export interface WorkerResult {
  sessions: Array<{ sessionId: string; isNew: boolean }>;
  errors: string[];
}

const send = (message: unknown) => process.send?.(message);

process.once("message", async (setup: WorkerSetup) => {
  const connection = setup.clusterNodes
    ? await connectCluster(setup.flavor, setup.clusterNodes)
    : await connectSingle(setup.flavor, setup.url as string);
  // The default server clock: these processes stand for app instances in a fleet.
  const store = redisStore({ client: connection.client });
  process.on("message", async (message: WorkerJob | "exit") => {
    if (message === "exit") {
      await connection.close();
      process.exit(0);
    }
    const sessions = new SessionManager({ store, namespace: message.namespace });
    const outcomes = await Promise.allSettled(
      Array.from({ length: message.calls }, () =>
        sessions.resolve(message.userId, undefined, { forceNew: message.forceNew }),
      ),
    );
    const result: WorkerResult = { sessions: [], errors: [] };
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") {
        result.sessions.push({ sessionId: outcome.value.sessionId, isNew: outcome.value.isNew });
      } else result.errors.push(String(outcome.reason));
    }
    send(result);
  });
  send("ready");
});
