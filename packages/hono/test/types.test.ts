// Type-level checks: `pnpm typecheck` fails if these types drift; vitest runs the few runtime lines.
import { type ErrorContext, memoryStore, type SessionStore } from "@threadline/session-core";
import { Hono } from "hono";
import { describe, expectTypeOf, it } from "vitest";
import { type SessionEnv, type ThreadlineSession, threadlineSession } from "../src/index.js";

interface Bindings {
  SESSIONS: SessionStore;
  GREETING: string;
}

describe("types", () => {
  it("types c.var.session in an app declared with SessionEnv", () => {
    const app = new Hono<SessionEnv>();
    app.use(threadlineSession({ userId: (c) => c.req.header("x-user-id") }));
    app.get("/", (c) => {
      expectTypeOf(c.var.session).toEqualTypeOf<ThreadlineSession>();
      expectTypeOf(c.get("session").sessionId).toBeString();
      expectTypeOf(c.var.session.close).returns.resolves.toBeBoolean();
      return c.text(c.var.session.sessionId);
    });
  });

  it("types c.var.session from a chained use() and on a single route", () => {
    const chained = new Hono().use(threadlineSession({ userId: () => "user-1" }));
    chained.get("/", (c) => {
      expectTypeOf(c.var.session).toEqualTypeOf<ThreadlineSession>();
      return c.text("ok");
    });
    new Hono().get("/route", threadlineSession({ userId: () => "user-1" }), (c) => {
      expectTypeOf(c.var.session.isNew).toBeBoolean();
      return c.text("ok");
    });
  });

  it("makes the session optional with onStoreError: continue", () => {
    const app = new Hono().use(threadlineSession({ userId: () => "user-1", onStoreError: "continue" }));
    app.get("/", (c) => {
      expectTypeOf(c.var.session).toEqualTypeOf<ThreadlineSession | undefined>();
      return c.text("ok");
    });
  });

  it("gives the app's bindings to userId and store functions", () => {
    const app = new Hono<{ Bindings: Bindings } & SessionEnv>();
    app.use(
      threadlineSession<{ Bindings: Bindings }>({
        userId: (c) => {
          expectTypeOf(c.env.GREETING).toBeString();
          return c.req.header("x-user-id");
        },
        store: (c) => c.env.SESSIONS,
      }),
    );
    app.get("/", (c) => c.text(`${c.env.GREETING} ${c.var.session.userId}`));
  });

  it("gives onError the one (error, context) signature of every adapter", () => {
    threadlineSession({
      userId: () => "user-1",
      onError: (error, context) => {
        expectTypeOf(error).toEqualTypeOf<Error>();
        expectTypeOf(context).toEqualTypeOf<ErrorContext>();
      },
    });
  });

  it("rejects a resolver that returns something other than a user id, and unknown policies", () => {
    // Never called: these would throw at runtime, the point is that they do not compile.
    const mistakes = () => {
      // @ts-expect-error a user id is a string, not a number
      threadlineSession({ userId: () => 42 });
      // @ts-expect-error no such policy
      threadlineSession({ userId: () => "user-1", onMissingUser: "allow" });
      // @ts-expect-error the store is a SessionStore, not a Map
      threadlineSession({ userId: () => "user-1", store: new Map() });
      // @ts-expect-error the factory, not a store: store: memoryStore()
      threadlineSession({ userId: () => "user-1", store: memoryStore });
    };
    expectTypeOf(mistakes).toBeFunction();
    expectTypeOf(threadlineSession({ userId: () => "user-1", store: memoryStore() })).toBeFunction();
  });
});
