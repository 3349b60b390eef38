// The apps the benchmark serves, one per scenario. Every app answers GET / with the id of the
// caller's session (bare Hono: the caller's user id), so each does the same visible work.
import { type SessionEnv as HonoSessionEnv, useSession, useSessionStorage } from "@hono/session";
import { type SessionEnv, threadlineSession } from "@threadline/hono";
import { memoryStore, type SessionStore } from "@threadline/session-core";
import { Hono } from "hono";
import { MemoryStore, type Session, sessionMiddleware } from "hono-sessions";

export const USER_HEADER = "x-user-id";
export const INACTIVITY_SECONDS = 120;

/** How a scenario's requests say who they are from. */
export type Identity = "header" | "cookie";

/** What a scenario's server needs of an app. */
export interface Served {
  fetch(request: Request): Response | Promise<Response>;
}

export interface Scenario {
  name: string;
  identity: Identity;
  /** Builds the app; `redisStore` is set for the Redis scenario. */
  build(context: { redisStore?: SessionStore }): Served;
}

function bare(): Served {
  const app = new Hono();
  app.get("/", (c) => c.text(c.req.header(USER_HEADER) ?? ""));
  return app;
}

/** The floor of any middleware: with one, Hono leaves its single-handler fast path for `compose`. */
function emptyMiddleware(): Served {
  const app = new Hono();
  app.use(async (_c, next) => {
    await next();
  });
  app.get("/", (c) => c.text(c.req.header(USER_HEADER) ?? ""));
  return app;
}

function threadline(store: SessionStore): Served {
  const app = new Hono<SessionEnv>();
  app.use(
    threadlineSession({ store, inactivityTimeout: INACTIVITY_SECONDS, userId: (c) => c.req.header(USER_HEADER) }),
  );
  app.get("/", (c) => c.text(c.get("session").sessionId));
  return app;
}

/**
 * `@hono/session`: the session id and expiry travel in an encrypted cookie (JWE, mandatory), the
 * data (the user id) in a server-side Map through `useSessionStorage`. Inactivity is its
 * `duration.inactivity`. `/login` creates the session as a sign-in would.
 */
function honoSession(): Served {
  type Data = { userId: string };
  const storage = new Map<string, Data>();
  const app = new Hono<HonoSessionEnv<Data>>();
  app.use(
    useSessionStorage<Data, HonoSessionEnv<Data>>({
      get: (sid) => storage.get(sid) ?? null,
      set: (sid, value) => void storage.set(sid, value),
      delete: (sid) => void storage.delete(sid),
    }),
    useSession<Data>({
      secret: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
      duration: { absolute: 86_400, inactivity: INACTIVITY_SECONDS },
    }),
  );
  app.get("/login", async (c) => {
    await c.var.session.update({ userId: c.req.header(USER_HEADER) ?? "" });
    return c.text("ok");
  });
  app.get("/", async (c) => {
    await c.var.session.get();
    return c.text(c.var.session.id ?? "");
  });
  return app;
}

/**
 * `hono-sessions`: its MemoryStore with a plain (unencrypted) session id cookie, its cheapest
 * server-side configuration; `expireAfterSeconds` with `autoExtendExpiration` renews on every
 * request, as threadline does.
 */
function honoSessions(): Served {
  const app = new Hono<{ Variables: { session: Session<{ userId: string }>; session_key_rotation: boolean } }>();
  app.use(
    sessionMiddleware({
      store: new MemoryStore(),
      expireAfterSeconds: INACTIVITY_SECONDS,
      autoExtendExpiration: true,
      cookieOptions: { path: "/", httpOnly: true, sameSite: "Lax" },
    }),
  );
  app.get("/login", (c) => {
    c.get("session").set("userId", c.req.header(USER_HEADER) ?? "");
    return c.text("ok");
  });
  app.get("/", (c) => c.text(String(c.get("session").get("userId"))));
  return app;
}

export const scenarios: Scenario[] = [
  { name: "bare Hono", identity: "header", build: bare },
  { name: "Hono + an empty middleware", identity: "header", build: emptyMiddleware },
  { name: "Hono + threadline (memory store)", identity: "header", build: () => threadline(memoryStore()) },
  {
    name: "Hono + threadline (Redis store)",
    identity: "header",
    build: ({ redisStore }) => {
      if (redisStore === undefined) throw new Error("the Redis scenario needs a store");
      return threadline(redisStore);
    },
  },
  { name: "Hono + @hono/session", identity: "cookie", build: honoSession },
  { name: "Hono + hono-sessions", identity: "cookie", build: honoSessions },
];
