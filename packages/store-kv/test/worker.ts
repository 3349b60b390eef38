// The Worker the tests run in. It exports the session object and serves sessions the way an
// app does: a store and manager built per request from `env`, renewals left to `waitUntil`.
import { SessionManager } from "@threadline/session-core";
import { type DurableObjectNamespaceLike, durableObjectStore, type KVNamespaceLike, kvStore } from "../src/index.js";

export { ThreadlineSessionObject } from "../src/index.js";

interface Env {
  SESSIONS: KVNamespaceLike;
  SESSION_OBJECTS: DurableObjectNamespaceLike;
}

interface Context {
  waitUntil(promise: Promise<unknown>): void;
}

export default {
  async fetch(request: Request, env: Env, context: Context): Promise<Response> {
    const url = new URL(request.url);
    const userId = request.headers.get("x-user-id");
    if (userId === null) return new Response("x-user-id header required", { status: 400 });
    const store =
      url.pathname === "/kv"
        ? kvStore({ binding: env.SESSIONS, waitUntil: (promise) => context.waitUntil(promise) })
        : durableObjectStore({ namespace: env.SESSION_OBJECTS });
    const sessions = new SessionManager({ store, namespace: url.searchParams.get("namespace") ?? "support" });
    const session = await sessions.resolve(userId);
    return Response.json(session);
  },
};
