// The session-core conformance suite against real Redis: every client library and major
// version on a single node, and on a 3-master Redis Cluster.
import { describeSessionStore, uniqueNamespace } from "@threadline/session-core/testing";
import { afterAll, beforeAll, describe, inject } from "vitest";
import { redisStore } from "../src/index.js";
import { connectCluster, connectSingle, flavors, type TestClient } from "./clients.js";

const uniquePrefix = () => `conformance-${uniqueNamespace()}:`;

for (const flavor of flavors) {
  for (const topology of ["single node", "cluster"] as const) {
    describe(`${flavor}, ${topology}`, () => {
      let connection: TestClient;
      beforeAll(async () => {
        connection =
          topology === "cluster"
            ? await connectCluster(flavor, inject("clusterNodes"))
            : await connectSingle(flavor, inject("redisUrl"));
      });
      afterAll(() => connection.close());

      // The suite drives time with a fake clock, so the store takes the manager's clock. A sweep
      // claims every expired session under the store's prefix, so each store gets a prefix of
      // its own: a case's cleanup then never finds another case's (or file's) sessions.
      describeSessionStore(`redis (${flavor}, ${topology})`, {
        createStore: () => redisStore({ client: connection.client, clock: "app", keyPrefix: uniquePrefix() }),
        concurrency: 100,
      });
    });
  }
}
