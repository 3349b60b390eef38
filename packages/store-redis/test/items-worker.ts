// One OS process of the items tests: connects its own client, says "ready", and on each job fires
// `calls` concurrent item appends under one operation id, or `calls` concurrent resolves, for one
// user, then reports what it got.
import { SessionManager } from "@threadline/session-core";
import { redisStore } from "../src/index.js";
import { connectCluster, connectSingle, type Flavor } from "./clients.js";

/** Sent by the test to set the worker up. */
export interface ItemsWorkerSetup {
  flavor: Flavor;
  url?: string;
  clusterNodes?: string[];
  keyPrefix: string;
}

/** One burst of calls. */
export type ItemsWorkerJob =
  | { kind: "append"; namespace: string; userId: string; calls: number; operationId: string; items: string[] }
  | { kind: "resolve"; namespace: string; userId: string; calls: number };

/** What a worker reports for a job: per call, whether it applied (append) or got carried items (resolve). */
export interface ItemsWorkerResult {
  outcomes: Array<{ applied?: boolean; carried?: unknown[]; sessionId?: string }>;
  errors: string[];
}

const send = (message: unknown) => process.send?.(message);

process.once("message", async (setup: ItemsWorkerSetup) => {
  const connection = setup.clusterNodes
    ? await connectCluster(setup.flavor, setup.clusterNodes)
    : await connectSingle(setup.flavor, setup.url as string);
  const store = redisStore({ client: connection.client, keyPrefix: setup.keyPrefix });
  process.on("message", async (message: ItemsWorkerJob | "exit") => {
    if (message === "exit") {
      await connection.close();
      process.exit(0);
    }
    const result: ItemsWorkerResult = { outcomes: [], errors: [] };
    if (message.kind === "append") {
      const sessions = new SessionManager({ store, namespace: message.namespace, cleanupInterval: 0 });
      const session = await sessions.resolve(message.userId);
      const outcomes = await Promise.allSettled(
        Array.from({ length: message.calls }, () =>
          sessions.changeItems(session, { type: "append", items: message.items }, { operationId: message.operationId }),
        ),
      );
      for (const outcome of outcomes) {
        if (outcome.status === "fulfilled") result.outcomes.push({ applied: outcome.value.applied });
        else result.errors.push(String(outcome.reason));
      }
    } else {
      // The store itself, so that what it hands out (carried) is visible as it is.
      const outcomes = await Promise.allSettled(
        Array.from({ length: message.calls }, () =>
          store.resolve({
            namespace: message.namespace,
            userId: message.userId,
            now: Date.now(),
            timeoutMs: 120_000,
            forceNew: false,
            retentionMs: 0,
            carryOverMs: 600_000,
            proposeSessionId: () => `${message.userId}-${Date.now()}`,
          }),
        ),
      );
      for (const outcome of outcomes) {
        if (outcome.status === "fulfilled") {
          result.outcomes.push({
            sessionId: outcome.value.sessionId,
            ...(outcome.value.carried === undefined ? {} : { carried: outcome.value.carried.items }),
          });
        } else result.errors.push(String(outcome.reason));
      }
    }
    send(result);
  });
  send("ready");
});
