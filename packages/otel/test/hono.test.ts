// Real Hono requests through @threadline/hono's threadlineSession and otelSession. A first
// middleware opens the request's server span, as @opentelemetry/instrumentation-http would,
// before the session is known.
import { trace } from "@opentelemetry/api";
import { type SessionEnv, threadlineSession } from "@threadline/hono";
import { memoryStore } from "@threadline/session-core";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { otelSession } from "../src/index.js";
import { expected, NO_SESSION, sessionOf, useTracing } from "./support.js";

const tracing = useTracing({ aliases: ["langfuse"] });
const tracer = () => trace.getTracer("test");

function chatApp(options: Parameters<typeof otelSession>[0] = { aliases: ["langfuse"] }) {
  const app = new Hono<SessionEnv>();
  app.use(async (c, next) => {
    await tracer().startActiveSpan(`${c.req.method} ${c.req.path} ${c.req.header("x-request") ?? ""}`, async (span) => {
      await next();
      span.end();
    });
  });
  app.get("/health", (c) => {
    tracer().startSpan("health check").end();
    return c.text("ok");
  });
  app.use(
    "/chat/*",
    threadlineSession({ namespace: "web", store: memoryStore(), userId: (c) => c.req.header("x-user-id") }),
  );
  app.use("/chat/*", otelSession(options));
  app.post("/chat/message", async (c) => {
    const request = c.req.header("x-request") ?? "";
    // A handler's own span, a nested child across an await (a model call and a tool inside it).
    await tracer().startActiveSpan(`model ${request}`, async (model) => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      await tracer().startActiveSpan(`tool ${request}`, async (tool) => {
        await Promise.resolve();
        tool.end();
      });
      model.end();
    });
    return c.json(c.var.session);
  });
  return app;
}

const post = (userId: string, request: string) => ({
  method: "POST",
  headers: { "x-user-id": userId, "x-request": request },
});

describe("otelSession (Hono)", () => {
  it("puts the session on the server span and on every span of the handler, and on no other request", async () => {
    const app = chatApp();
    const response = await app.request("/chat/message", post("user-1", "a"));
    const session = (await response.json()) as { namespace: string; userId: string; sessionId: string };
    await app.request("/health");
    for (const name of ["POST /chat/message a", "model a", "tool a"]) {
      expect(sessionOf(tracing.span(name)), name).toEqual(expected(session));
      expect(tracing.span(name).attributes["langfuse.session.id"]).toBe(`web/user-1/${session.sessionId}`);
      expect(tracing.span(name).attributes["langfuse.user.id"]).toBe("user-1");
    }
    expect(sessionOf(tracing.span("GET /health "))).toEqual(NO_SESSION);
    expect(sessionOf(tracing.span("health check"))).toEqual(NO_SESSION);
  });

  it("keeps concurrent requests of different users apart", async () => {
    const app = chatApp();
    const users = Array.from({ length: 12 }, (_, index) => `user-${index}`);
    const sessions = await Promise.all(
      users.map(async (userId) => (await app.request("/chat/message", post(userId, userId))).json()),
    );
    users.forEach((userId, index) => {
      const session = sessions[index] as { namespace: string; userId: string; sessionId: string };
      expect(session.userId).toBe(userId);
      for (const name of [`POST /chat/message ${userId}`, `model ${userId}`, `tool ${userId}`]) {
        expect(sessionOf(tracing.span(name)), name).toEqual(expected(session));
      }
    });
  });

  it("leaves the server span alone with activeSpan: false, and lets requests without a session through", async () => {
    const app = chatApp({ activeSpan: false });
    await app.request("/chat/message", post("user-1", "b"));
    expect(tracing.span("POST /chat/message b").attributes["session.id"]).toBeUndefined();
    expect(tracing.span("model b").attributes["session.id"]).toMatch(/^web\/user-1\//);

    const bare = new Hono();
    bare.use(otelSession());
    bare.get("/", (c) => {
      tracer().startSpan("no session").end();
      return c.text("ok");
    });
    expect((await bare.request("/")).status).toBe(200);
    expect(sessionOf(tracing.span("no session"))).toEqual(NO_SESSION);
  });
});
