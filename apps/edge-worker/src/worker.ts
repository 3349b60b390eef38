// A chat API on an edge route. The user is the `sub` claim of a JWT the Worker verifies; the
// session comes from threadline and is never taken from the client.
// - /chat/*       sessions and conversation memory in a Durable Object: strict, one id per user
//                 even under concurrent first requests.
// - /lite/chat/*  sessions in Workers KV: cheaper, best effort (see @threadline/store-kv's README),
//                 no memory.
import { type SessionEnv, threadlineSession } from "@threadline/hono";
import {
  type DurableObjectNamespaceLike,
  durableObjectStore,
  type KVNamespaceLike,
  kvStore,
} from "@threadline/store-kv";
import { Hono, type MiddlewareHandler } from "hono";
import { jwt } from "hono/jwt";

export { ThreadlineSessionObject } from "@threadline/store-kv";

export interface Bindings {
  SESSIONS: KVNamespaceLike;
  SESSION_OBJECTS: DurableObjectNamespaceLike;
  JWT_SECRET: string;
}

interface JwtVariables {
  jwtPayload: { sub?: unknown };
}

type WorkerEnv = { Bindings: Bindings; Variables: JwtVariables } & SessionEnv;

interface ChatTurn {
  role: "user" | "assistant";
  content: string;
}

// hono/jwt takes its secret up front; on Workers the secret is a binding, so build it per request.
const verifiedUser: MiddlewareHandler<WorkerEnv> = (c, next) =>
  jwt({ secret: c.env.JWT_SECRET, alg: "HS256" })(c, next);
const userId = (c: { get(key: "jwtPayload"): JwtVariables["jwtPayload"] }) => {
  const subject = c.get("jwtPayload").sub;
  return typeof subject === "string" ? subject : undefined;
};

const app: Hono<WorkerEnv> = new Hono<WorkerEnv>();

app.use("/chat/*", verifiedUser);
app.use(
  "/chat/*",
  threadlineSession<WorkerEnv>({
    userId,
    namespace: "edge-chat",
    inactivityTimeout: 300,
    store: (c) => durableObjectStore({ namespace: c.env.SESSION_OBJECTS }),
    responseHeader: true,
  }),
);

app.post("/chat/messages", async (c) => {
  const { message } = await c.req.json<{ message?: unknown }>().catch(() => ({ message: undefined }));
  if (typeof message !== "string" || message.length === 0) return c.json({ error: "send { message: string }" }, 400);
  const session = c.var.session;
  const earlier = (await session.manager.getItems(session)) as ChatTurn[];
  const reply = answer(message, earlier);
  await session.manager.addItems(session, [
    { role: "user", content: message },
    { role: "assistant", content: reply },
  ] satisfies ChatTurn[]);
  return c.json({ sessionId: session.sessionId, isNew: session.isNew, reply });
});

app.post("/chat/end", async (c) => c.json({ ended: await c.var.session.close() }));

app.use("/lite/chat/*", verifiedUser);
app.use(
  "/lite/chat/*",
  threadlineSession<WorkerEnv>({
    userId,
    namespace: "edge-lite",
    store: (c, { waitUntil }) => kvStore({ binding: c.env.SESSIONS, waitUntil }),
    responseHeader: true,
  }),
);

app.post("/lite/chat/messages", (c) => c.json({ sessionId: c.var.session.sessionId, isNew: c.var.session.isNew }));

/** A stand-in for a model call that shows what the session's memory holds. */
function answer(message: string, earlier: ChatTurn[]): string {
  const previous = earlier.filter((turn) => turn.role === "user").map((turn) => turn.content);
  if (previous.length === 0) return `Hello! You said "${message}". This conversation is new.`;
  return `You said "${message}". Earlier in this conversation: ${previous.map((text) => `"${text}"`).join(", ")}.`;
}

export default app;
