// The Worker the workerd tests call through its real fetch entry point: one Hono app whose
// routes build their store per request from bindings, as an edge app does.
import { memoryStore } from "@threadline/session-core";
import {
  type DurableObjectNamespaceLike,
  durableObjectStore,
  type KVNamespaceLike,
  kvStore,
} from "@threadline/store-kv";
import { Hono } from "hono";
import { type SessionEnv, threadlineSession } from "../../src/index.js";
import { userFromHeader } from "../apps.js";

export { ThreadlineSessionObject } from "@threadline/store-kv";

export interface Bindings {
  SESSIONS: KVNamespaceLike;
  SESSION_OBJECTS: DurableObjectNamespaceLike;
}

type WorkerEnv = { Bindings: Bindings } & SessionEnv;

// One memory store per isolate: the cheapest option, for sessions that may live in one location.
const isolateSessions = memoryStore();

const app: Hono<WorkerEnv> = new Hono<WorkerEnv>();
app.use(
  "/memory/*",
  threadlineSession<{ Bindings: Bindings }>({
    userId: userFromHeader,
    namespace: "edge",
    store: () => isolateSessions,
  }),
);
app.use(
  "/durable-object/*",
  threadlineSession<{ Bindings: Bindings }>({
    userId: userFromHeader,
    namespace: "edge",
    store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS }),
  }),
);
app.use(
  "/kv/*",
  threadlineSession<{ Bindings: Bindings }>({
    userId: userFromHeader,
    namespace: "edge",
    store: (c, { waitUntil }) => kvStore({ binding: c.env.SESSIONS, waitUntil }),
    responseHeader: true,
  }),
);
app.get("*", (c) => c.json({ session: c.var.session }));

export default app;
