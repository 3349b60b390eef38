// The apps the benchmark serves, one per scenario. Every app answers GET / with the id of the
// caller's session (without a session: the caller's user id), and each row says what work it does
// to learn who the caller is: an unverified header, a verified JWT, an encrypted or plain cookie.
import { type SessionEnv as HonoSessionEnv, useSession, useSessionStorage } from "@hono/session";
import { type SessionEnv, threadlineSession } from "@threadline/hono";
import { memoryStore, type SessionStore } from "@threadline/session-core";
import { Hono } from "hono";
import { type JwtVariables, jwt, sign } from "hono/jwt";
import { MemoryStore, type Session, sessionMiddleware } from "hono-sessions";

export const USER_HEADER = "x-user-id";
export const INACTIVITY_SECONDS = 120;
const JWT_SECRET = "bench-secret-0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/**
 * How a scenario's requests say who they are from: an `x-user-id` header nobody verifies, a
 * bearer JWT the app verifies (HS256, with `exp`), or a cookie from signing in once.
 */
export type Identity = "header" | "bearer" | "cookie";

/** The headers of user `index` for header and bearer scenarios (cookie scenarios sign in instead). */
export async function credentialsOf(identity: "header" | "bearer", index: number): Promise<Record<string, string>> {
  const userId = `user-${index}`;
  if (identity === "header") return { [USER_HEADER]: userId };
  const token = await sign({ sub: userId, exp: Math.floor(Date.now() / 1000) + 86_400 }, JWT_SECRET, "HS256");
  return { authorization: `Bearer ${token}` };
}

/** What a scenario's server needs of an app. */
export interface Served {
  fetch(request: Request): Response | Promise<Response>;
}

export interface Scenario {
  name: string;
  /** What the app does per request, for the table. */
  work: string;
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

type JwtEnv = { Variables: JwtVariables<{ sub: string }> };

/** The identity work alone: `hono/jwt` verifies the bearer token; the answer is its `sub`. */
function jwtOnly(): Served {
  const app = new Hono<JwtEnv>();
  app.use(jwt({ secret: JWT_SECRET, alg: "HS256" }));
  app.get("/", (c) => c.text(c.get("jwtPayload").sub));
  return app;
}

/** What a real app does: verify the token, then the session of its `sub`. */
function jwtThreadline(store: SessionStore): Served {
  const app = new Hono<JwtEnv & SessionEnv>();
  app.use(jwt({ secret: JWT_SECRET, alg: "HS256" }));
  app.use(
    threadlineSession<JwtEnv>({
      store,
      inactivityTimeout: INACTIVITY_SECONDS,
      userId: (c) => c.get("jwtPayload").sub,
    }),
  );
  app.get("/", (c) => c.text(c.var.session.sessionId));
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

function redis(store: SessionStore | undefined): SessionStore {
  if (store === undefined) throw new Error("the Redis scenario needs a store");
  return store;
}

export const scenarios: Scenario[] = [
  { name: "bare Hono", work: "reads x-user-id (unverified)", identity: "header", build: bare },
  {
    name: "Hono + an empty middleware",
    work: "reads x-user-id (unverified)",
    identity: "header",
    build: emptyMiddleware,
  },
  { name: "Hono + hono/jwt", work: "verifies a JWT (HS256), no session", identity: "bearer", build: jwtOnly },
  {
    name: "Hono + threadline (memory)",
    work: "unverified x-user-id; resolves + renews the session",
    identity: "header",
    build: () => threadline(memoryStore()),
  },
  {
    name: "Hono + hono/jwt + threadline (memory)",
    work: "verifies a JWT; session of its sub, renewed",
    identity: "bearer",
    build: () => jwtThreadline(memoryStore()),
  },
  {
    name: "Hono + hono/jwt + threadline (Redis)",
    work: "verifies a JWT; session in Redis (one round trip)",
    identity: "bearer",
    build: ({ redisStore }) => jwtThreadline(redis(redisStore)),
  },
  {
    name: "Hono + @hono/session",
    work: "decrypts a JWE cookie; Map lookup",
    identity: "cookie",
    build: honoSession,
  },
  {
    name: "Hono + hono-sessions",
    work: "plain id cookie; MemoryStore lookup; Set-Cookie on every response",
    identity: "cookie",
    build: honoSessions,
  },
];
