import { Hono } from "hono";
import { type OptionalSessionEnv, type ThreadlineSessionOptions, threadlineSession } from "../src/index.js";

/** The trusted-gateway pattern: the user id arrives percent-encoded in `X-User-Id`, so any Unicode id fits in a header. */
export function userFromHeader(c: { req: { header(name: string): string | undefined } }): string | undefined {
  const raw = c.req.header("x-user-id");
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return ""; // malformed encoding: an invalid id, answered with 400
  }
}

/** The webhook pattern: the user id is a field of the JSON body (`from`), as in WhatsApp's payloads. */
export async function userFromBody(c: {
  req: { method: string; json(): Promise<unknown> };
}): Promise<string | undefined> {
  if (c.req.method !== "POST") return undefined;
  const body = (await c.req.json()) as { from?: string } | null;
  return body?.from ?? undefined;
}

/** Counts handler runs, so tests can assert the handler did (not) run. */
export interface TestApp {
  app: Hono<OptionalSessionEnv>;
  handled: { count: number };
}

/**
 * An app with the middleware on every route:
 * - `GET|POST /whoami`: the session as JSON (`null` when there is none), and the body the handler read;
 * - `POST /close`: closes the session.
 */
export function sessionApp(options: ThreadlineSessionOptions<OptionalSessionEnv>): TestApp {
  const handled = { count: 0 };
  const app = new Hono<OptionalSessionEnv>();
  app.use(threadlineSession(options));
  app.on(["GET", "POST"], "/whoami", async (c) => {
    handled.count++;
    const body: unknown = c.req.method === "POST" ? await c.req.json() : null;
    return c.json({ session: c.var.session ?? null, body });
  });
  app.post("/close", async (c) => {
    handled.count++;
    const closed = (await c.var.session?.close()) ?? false;
    return c.json({ closed });
  });
  return { app, handled };
}

/** The session fields a `/whoami` response carries. */
export interface SessionJson {
  sessionId: string;
  userId: string;
  namespace: string;
  isNew: boolean;
  anonymous: boolean;
  createdAt: number;
  lastActivityAt: number;
  expiresAt: number;
  turns: number;
  previousSessionId?: string;
}

export async function sessionOf(response: Response): Promise<SessionJson> {
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${await response.text()}`);
  const json = (await response.json()) as { session: SessionJson | null };
  if (json.session === null) throw new Error("the response has no session");
  return json.session;
}

export function asUser(userId: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...init.headers, "x-user-id": encodeURIComponent(userId) } };
}

export function postJson(body: unknown, init: RequestInit = {}): RequestInit {
  return {
    ...init,
    method: "POST",
    headers: { ...init.headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}
