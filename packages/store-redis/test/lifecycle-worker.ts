// One OS process of the exactly-once test: a SessionManager with onSessionEnd and background
// cleanup on its own client. Each job sets the shared fake time, fires resolves for the users
// (and a cleanupExpired when asked) all at once, waits for its callbacks, and reports the
// sessions it saw start and the ends it was handed since the last job.
import { type SessionEndEvent, SessionManager } from "@threadline/session-core";
import { redisStore } from "../src/index.js";
import { connectCluster, connectSingle, type Flavor } from "./clients.js";

/** Sent by the test to set the worker up. */
export interface LifecycleWorkerSetup {
  flavor: Flavor;
  url?: string;
  clusterNodes?: string[];
  keyPrefix: string;
  namespace: string;
}

/** One burst of calls at one moment. */
export interface LifecycleJob {
  now: number;
  /** Resolves to fire, one per user id listed (a user may be listed several times). */
  resolves: string[];
  /** Users to close the session of, at the same time. */
  closes: string[];
  cleanup: boolean;
}

/** What a worker reports for a job. */
export interface LifecycleResult {
  started: string[];
  ends: Array<{ sessionId: string; userId: string; reason: string; endedAt: number }>;
  errors: string[];
}

const send = (message: unknown) => process.send?.(message);

process.once("message", async (setup: LifecycleWorkerSetup) => {
  const connection = setup.clusterNodes
    ? await connectCluster(setup.flavor, setup.clusterNodes)
    : await connectSingle(setup.flavor, setup.url as string);
  let now = 0;
  let started: string[] = [];
  let ends: SessionEndEvent[] = [];
  const errors: string[] = [];
  const sessions = new SessionManager({
    store: redisStore({ client: connection.client, clock: "app", keyPrefix: setup.keyPrefix }),
    namespace: setup.namespace,
    now: () => now,
    inactivityTimeout: 10,
    // Background cleanups start during resolves every 5 s of the shared fake time.
    cleanupInterval: 5,
    maxTurns: 4,
    maxDuration: 30,
    retention: 60,
    onSessionStart: (event) => {
      started.push(event.session.sessionId);
    },
    onSessionEnd: (event) => {
      ends.push(event);
    },
    onError: (error) => {
      errors.push(String(error));
    },
  });
  process.on("message", async (message: LifecycleJob | "exit") => {
    if (message === "exit") {
      await connection.close();
      process.exit(0);
    }
    now = message.now;
    const calls: Array<Promise<unknown>> = [
      ...message.resolves.map((user) => sessions.resolve(user)),
      ...message.closes.map((user) => sessions.closeSession(user)),
      ...(message.cleanup ? [sessions.cleanupExpired()] : []),
    ];
    for (const outcome of await Promise.allSettled(calls)) {
      if (outcome.status === "rejected") errors.push(String(outcome.reason));
    }
    await sessions.flush();
    const result: LifecycleResult = {
      started,
      ends: ends.map((end) => ({
        sessionId: end.session.sessionId,
        userId: end.session.userId,
        reason: end.reason,
        endedAt: end.endedAt,
      })),
      errors: errors.splice(0),
    };
    started = [];
    ends = [];
    send(result);
  });
  send("ready");
});
