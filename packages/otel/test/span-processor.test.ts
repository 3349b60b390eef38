import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import * as incubating from "@opentelemetry/semantic-conventions/incubating";
import { SessionError, SessionManager } from "@threadline/session-core";
import { describe, expect, it } from "vitest";
import {
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_SESSION_ID,
  ATTR_SESSION_PREVIOUS_ID,
  ATTR_USER_ID,
  contextWithSession,
  EVENT_SESSION_END,
  EVENT_SESSION_START,
  sessionFromContext,
  threadlineSpanProcessor,
  withPendingSession,
  withSession,
} from "../src/index.js";
import { expected, NO_SESSION, sessionOf, useTracing } from "./support.js";

const tracing = useTracing();
const tracer = () => trace.getTracer("test");

describe("attribute names", () => {
  it("are the semantic conventions' (copied from the incubating entry, as its README asks)", () => {
    expect(ATTR_SESSION_ID).toBe(incubating.ATTR_SESSION_ID);
    expect(ATTR_SESSION_PREVIOUS_ID).toBe(incubating.ATTR_SESSION_PREVIOUS_ID);
    expect(ATTR_USER_ID).toBe(incubating.ATTR_USER_ID);
    expect(ATTR_GEN_AI_CONVERSATION_ID).toBe(incubating.ATTR_GEN_AI_CONVERSATION_ID);
    expect(EVENT_SESSION_START).toBe(incubating.EVENT_SESSION_START);
    expect(EVENT_SESSION_END).toBe(incubating.EVENT_SESSION_END);
  });
});

describe("threadlineSpanProcessor", () => {
  it("puts the session on every span inside withSession, however deep, and on none outside", async () => {
    const sessions = new SessionManager({ namespace: "support" });
    const session = await sessions.resolve("user-123");
    tracer().startSpan("before").end();
    await withSession(session, () =>
      tracer().startActiveSpan("root", async (root) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        await tracer().startActiveSpan("child", async (child) => {
          await Promise.resolve();
          tracer().startSpan("grandchild").end();
          child.end();
        });
        // Started from an explicit context built on the active one: still the session.
        tracer().startSpan("explicit", {}, trace.setSpan(context.active(), root)).end();
        root.end();
      }),
    );
    tracer().startSpan("after").end();
    for (const name of ["root", "child", "grandchild", "explicit"]) {
      expect(sessionOf(tracing.span(name)), name).toEqual(expected(session));
    }
    expect(sessionOf(tracing.span("before"))).toEqual(NO_SESSION);
    expect(sessionOf(tracing.span("after"))).toEqual(NO_SESSION);
  });

  it("gives the global id: two pairs whose readable ids coincide get different session.id", async () => {
    const first = { namespace: "support-vip", userId: "123", sessionId: "support-vip-123-20250107-120000" };
    const second = { namespace: "support", userId: "vip-123", sessionId: "support-vip-123-20250107-120000" };
    withSession(first, () => tracer().startSpan("first").end());
    withSession(second, () => tracer().startSpan("second").end());
    const a = tracing.span("first").attributes;
    const b = tracing.span("second").attributes;
    expect(a["threadline.session_id"]).toBe(b["threadline.session_id"]);
    expect(a["session.id"]).toBe("support-vip/123/support-vip-123-20250107-120000");
    expect(b["session.id"]).toBe("support/vip-123/support-vip-123-20250107-120000");
  });

  it("keeps concurrent sessions apart", async () => {
    const users = Array.from({ length: 20 }, (_, index) => ({
      namespace: "chat",
      userId: `user-${index}`,
      sessionId: `chat-user-${index}-20250107-120000`,
    }));
    await Promise.all(
      users.map((session) =>
        withSession(session, async () => {
          for (let step = 0; step < 3; step++) {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
            tracer().startSpan(`${session.userId} step ${step}`).end();
          }
        }),
      ),
    );
    for (const session of users) {
      for (let step = 0; step < 3; step++) {
        expect(sessionOf(tracing.span(`${session.userId} step ${step}`))).toEqual(expected(session));
      }
    }
  });

  it("reads the span's parent context, not the active one", () => {
    const session = { namespace: "n", userId: "u", sessionId: "s" };
    const withIt = contextWithSession(ROOT_CONTEXT, session);
    expect(sessionFromContext(withIt)).toBe(session);
    expect(sessionFromContext(ROOT_CONTEXT)).toBeUndefined();
    tracer().startSpan("explicit parent", {}, withIt).end();
    withSession(session, () => tracer().startSpan("root context", {}, ROOT_CONTEXT).end());
    expect(sessionOf(tracing.span("explicit parent"))).toEqual(expected(session));
    expect(sessionOf(tracing.span("root context"))).toEqual(NO_SESSION);
  });

  it("adds the vendor aliases asked for", () => {
    const session = { namespace: "n", userId: "u", sessionId: "s" };
    const processor = threadlineSpanProcessor({ aliases: ["langfuse", "langsmith"] });
    const set: Record<string, unknown> = {};
    const span = { setAttributes: (attributes: Record<string, unknown>) => Object.assign(set, attributes) };
    processor.onStart(span as never, contextWithSession(ROOT_CONTEXT, session));
    expect(set).toMatchObject({
      "session.id": "n/u/s",
      "langfuse.session.id": "n/u/s",
      "langfuse.user.id": "u",
      "langsmith.metadata.session_id": "n/u/s",
      "langsmith.metadata.user_id": "u",
    });
    processor.onStart(span as never, ROOT_CONTEXT); // no session: nothing set, no throw
  });

  it("withPendingSession: spans started before the session is known get it when they end", async () => {
    const session = { namespace: "n", userId: "late", sessionId: "s" };
    let resolve: (value: typeof session | undefined) => void = () => {};
    const known = new Promise<typeof session | undefined>((done) => {
      resolve = done;
    });
    await withPendingSession(
      () => known,
      async () => {
        const early = tracer().startSpan("started early");
        tracer().startSpan("ended before").end(); // over before the session is known: stays without
        resolve(session);
        await new Promise((done) => setTimeout(done, 1));
        early.end();
        tracer().startSpan("started later").end();
      },
    );
    expect(sessionOf(tracing.span("started early"))).toEqual(expected(session));
    expect(sessionOf(tracing.span("started later"))).toEqual(expected(session));
    expect(sessionOf(tracing.span("ended before"))).toEqual(NO_SESSION);

    await withPendingSession(
      () => Promise.resolve(undefined),
      async () => {
        await new Promise((done) => setTimeout(done, 1));
        tracer().startSpan("no session resolved").end();
      },
    );
    await withPendingSession(
      () => Promise.reject(new Error("store down")),
      async () => {
        await new Promise((done) => setTimeout(done, 1));
        tracer().startSpan("resolution failed").end();
      },
    );
    expect(sessionOf(tracing.span("no session resolved"))).toEqual(NO_SESSION);
    expect(sessionOf(tracing.span("resolution failed"))).toEqual(NO_SESSION);
  });

  it("leaves a span that starts with its own session.id alone", () => {
    const session = { namespace: "n", userId: "u", sessionId: "s" };
    withSession(session, () =>
      tracer()
        .startSpan("own", { attributes: { "session.id": "other/id/x", "user.id": "other" } })
        .end(),
    );
    expect(tracing.span("own").attributes).toEqual({ "session.id": "other/id/x", "user.id": "other" });
  });

  it("the innermost session wins", () => {
    const outer = { namespace: "n", userId: "outer", sessionId: "s1" };
    const inner = { namespace: "n", userId: "inner", sessionId: "s2" };
    withSession(outer, () => withSession(inner, () => tracer().startSpan("inner").end()));
    expect(sessionOf(tracing.span("inner"))).toEqual(expected(inner));
  });

  it("rejects what is not a session, and bad aliases, with INVALID_OPTION", () => {
    expect(() => withSession({ namespace: "n", userId: "u" } as never, () => 1)).toThrow(SessionError);
    expect(() => threadlineSpanProcessor({ aliases: ["datadog"] as never })).toThrow(/aliases must be/);
    const error = (() => {
      try {
        contextWithSession(ROOT_CONTEXT, null as never);
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(SessionError.isInstance(error) && error.code).toBe("INVALID_OPTION");
    expect(String(error)).toMatch(/\[threadline\] \[otel\] a session needs/);
  });
});
