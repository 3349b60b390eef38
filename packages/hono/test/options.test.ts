// Options, Workers-style stores from c.env, background cleanup and configuration errors.
// These need no socket, so they run through `app.request` only.
import {
  type ErrorContext,
  memoryStore,
  SessionError,
  SessionManager,
  type SessionStore,
} from "@threadline/session-core";
import { createFakeClock, faultyStore } from "@threadline/session-core/testing";
import { type ExecutionContext, Hono, type MiddlewareHandler } from "hono";
import { requestId } from "hono/request-id";
import { describe, expect, it } from "vitest";
import {
  type OptionalSessionEnv,
  type SessionEnv,
  type ThreadlineSessionOptions,
  threadlineSession,
} from "../src/index.js";
import { asUser, sessionOf, userFromHeader } from "./apps.js";

interface Bindings {
  SESSIONS: SessionStore;
}

/** An ExecutionContext as Workers passes it, recording what the middleware hands to `waitUntil`. */
function executionContext(): ExecutionContext & { waited: Promise<unknown>[] } {
  const waited: Promise<unknown>[] = [];
  return { waited, waitUntil: (promise) => void waited.push(promise), passThroughOnException: () => {}, props: {} };
}

function whoamiApp(middleware: MiddlewareHandler): Hono<OptionalSessionEnv> {
  const app = new Hono<OptionalSessionEnv>();
  app.use(middleware);
  app.get("/whoami", (c) => c.json({ session: c.get("session") ?? null }));
  return app;
}

describe("a store built per request from c.env (Workers bindings)", () => {
  it("uses the binding's store and keeps the sessions of two bindings apart", async () => {
    const app = whoamiApp(
      threadlineSession<{ Bindings: Bindings }>({ userId: userFromHeader, store: (c) => c.env.SESSIONS }),
    );
    const east = memoryStore();
    const west = memoryStore();

    const first = await sessionOf(await app.request("/whoami", asUser("user-1"), { SESSIONS: east }));
    const again = await sessionOf(await app.request("/whoami", asUser("user-1"), { SESSIONS: east }));
    const elsewhere = await sessionOf(await app.request("/whoami", asUser("user-1"), { SESSIONS: west }));
    expect(again).toMatchObject({ sessionId: first.sessionId, isNew: false });
    expect(elsewhere.isNew).toBe(true);
    expect(east.size).toBe(1);
    expect(west.size).toBe(1);
  });

  it("builds one manager per store object and none shared between two apps", async () => {
    const store = memoryStore();
    const managers = new Set<SessionManager>();
    const middlewareOptions: ThreadlineSessionOptions<{ Bindings: Bindings }> = {
      userId: userFromHeader,
      store: (c) => c.env.SESSIONS,
    };
    const build = () => {
      const app = new Hono<{ Bindings: Bindings } & SessionEnv>();
      app.use(threadlineSession<{ Bindings: Bindings }>(middlewareOptions));
      app.get("/", (c) => {
        managers.add(c.var.session.manager);
        return c.text("ok");
      });
      return app;
    };
    const [one, two] = [build(), build()];
    for (let index = 0; index < 3; index++) {
      await one.request("/", asUser("user-1"), { SESSIONS: store });
      await two.request("/", asUser("user-1"), { SESSIONS: store });
    }
    expect(managers.size).toBe(2);
  });

  it("hands the store function the request's waitUntil on Workers, and undefined elsewhere", async () => {
    const store = memoryStore();
    const seen: Array<((promise: Promise<unknown>) => void) | undefined> = [];
    const app = whoamiApp(
      threadlineSession({
        userId: userFromHeader,
        store: (_c, { waitUntil }) => {
          seen.push(waitUntil);
          return store;
        },
      }),
    );
    const context = executionContext();
    await app.request("/whoami", asUser("user-1"), {}, context);
    await app.request("/whoami", asUser("user-1"));
    const background = Promise.resolve("renewal");
    seen[0]?.(background);
    expect(context.waited).toEqual([background]);
    expect(seen[1]).toBeUndefined();
  });

  it("reports a store function that returns no store (a missing binding) as a configuration error (500)", async () => {
    const app = whoamiApp(
      threadlineSession<{ Bindings: Partial<Bindings> }>({
        userId: userFromHeader,
        store: (c) => c.env.SESSIONS as SessionStore,
      }),
    );
    const errors: unknown[] = [];
    app.onError((error, c) => {
      errors.push(error);
      return c.text("error", 500);
    });
    expect((await app.request("/whoami", asUser("user-1"), {})).status).toBe(500);
    expect(SessionError.isInstance(errors[0]) && errors[0].code).toBe("INVALID_OPTION");
    expect((errors[0] as Error).message).toContain("must return a SessionStore object, got undefined");
  });

  it("reports a throwing store function as a configuration error (500), not a store outage", async () => {
    const app = whoamiApp(
      threadlineSession<{ Bindings: Partial<Bindings> }>({
        userId: userFromHeader,
        store: (c) => {
          if (c.env.SESSIONS === undefined) throw new Error("binding SESSIONS is missing");
          return c.env.SESSIONS;
        },
      }),
    );
    const errors: unknown[] = [];
    app.onError((error, c) => {
      errors.push(error);
      return c.text("error", 500);
    });
    const response = await app.request("/whoami", asUser("user-1"), {});
    expect(response.status).toBe(500);
    expect(SessionError.isInstance(errors[0]) && errors[0].code).toBe("INVALID_OPTION");
    expect(String((errors[0] as Error).message)).toMatch(
      /^\[threadline\] \[hono\] The store function threw: binding SESSIONS is missing/,
    );
  });
});

describe("what onError hears", () => {
  it("the user and the request id of Hono's requestId() middleware, when a resolve fails", async () => {
    const store = faultyStore();
    const contexts: ErrorContext[] = [];
    const app = new Hono<OptionalSessionEnv>();
    app.use(requestId({ generator: () => "request-7" }));
    app.use(threadlineSession({ userId: userFromHeader, store, onError: (_error, context) => contexts.push(context) }));
    app.get("/", (c) => c.text("ok"));
    store.fail({ times: 1 });
    expect((await app.request("/", asUser("user-1"))).status).toBe(503);
    expect(contexts).toEqual([{ operation: "resolve", userId: "user-1", runId: "request-7" }]);
  });
});

describe("the manager's background cleanup of expired sessions", () => {
  /** A memory store whose sweeps wait until the test opens the gate, so a cleanup can be caught in flight. */
  function gatedStore() {
    const inner = memoryStore();
    const store = faultyStore(inner);
    return { store, inner, open: store.hold({ operations: ["sweep"] }) };
  }

  it("is handed to waitUntil on Workers while it runs, and only then", async () => {
    const { store, inner, open } = gatedStore();
    const clock = createFakeClock();
    const app = whoamiApp(threadlineSession({ userId: userFromHeader, store, now: clock.now, cleanupInterval: 60 }));
    for (const user of ["a", "b", "c"]) {
      const quiet = executionContext();
      await app.request("/whoami", asUser(user), {}, quiet);
      expect(quiet.waited).toHaveLength(0); // nothing in flight: waitUntil is not touched
    }

    clock.advance(200); // a, b, c expired; a cleanup is due
    const due = executionContext();
    expect((await app.request("/whoami", asUser("d"), {}, due)).status).toBe(200); // the response did not wait
    expect(due.waited).toHaveLength(1);
    expect(inner).toMatchObject({ size: 4 });
    open();
    await Promise.all(due.waited);
    expect(inner).toMatchObject({ size: 1 });
  });

  it("runs on after the response without an ExecutionContext (Node), where c.executionCtx throws", async () => {
    const { store, inner, open } = gatedStore();
    const clock = createFakeClock();
    const managers = new Set<SessionManager>();
    const app = new Hono<SessionEnv>();
    app.use(threadlineSession({ userId: userFromHeader, store, now: clock.now }));
    app.get("/", (c) => {
      managers.add(c.var.session.manager);
      return c.text("ok");
    });
    await app.request("/", asUser("a"));
    clock.advance(200);
    expect((await app.request("/", asUser("b"))).status).toBe(200);
    open();
    await Promise.all([...managers].map((manager) => manager.flush()));
    expect(inner).toMatchObject({ size: 1 });
  });

  it("is off with cleanupInterval: 0", async () => {
    const store = memoryStore();
    const clock = createFakeClock();
    const app = whoamiApp(threadlineSession({ userId: userFromHeader, store, now: clock.now, cleanupInterval: 0 }));
    await app.request("/whoami", asUser("a"));
    clock.advance(10_000);
    const context = executionContext();
    await app.request("/whoami", asUser("b"), {}, context);
    expect(context.waited).toHaveLength(0);
    expect(store.size).toBe(2);
  });

  it("reports a failed cleanup to onError as operation cleanup, and never fails the request", async () => {
    const store = faultyStore();
    const clock = createFakeClock();
    const reported: Array<{ code: unknown; context: ErrorContext }> = [];
    const app = whoamiApp(
      threadlineSession({
        userId: userFromHeader,
        store,
        now: clock.now,
        onError: (error, context) => reported.push({ code: SessionError.isInstance(error) && error.code, context }),
      }),
    );
    await app.request("/whoami", asUser("a"));
    clock.advance(61);
    store.fail({ operations: ["sweep"] }); // resolve works, the background cleanup does not
    const context = executionContext();
    expect((await app.request("/whoami", asUser("a"), {}, context)).status).toBe(200);
    await Promise.all(context.waited);
    expect(reported).toEqual([{ code: "STORE_UNAVAILABLE", context: { operation: "cleanup" } }]);
  });
});

describe("an injected sessionManager", () => {
  it("resolves through it, so other adapters sharing it see the same sessions", async () => {
    const clock = createFakeClock();
    const manager = new SessionManager({ namespace: "support", now: clock.now });
    const app = whoamiApp(threadlineSession({ userId: userFromHeader, sessionManager: manager }));
    const session = await sessionOf(await app.request("/whoami", asUser("user-1")));
    expect(await manager.getOrCreateSession("user-1")).toBe(session.sessionId);
  });

  it("takes a namespace per middleware, so one manager can serve several routes", async () => {
    const manager = new SessionManager();
    const app = new Hono<SessionEnv>();
    app.use("/support/*", threadlineSession({ userId: userFromHeader, sessionManager: manager, namespace: "support" }));
    app.use("/sales/*", threadlineSession({ userId: userFromHeader, sessionManager: manager, namespace: "sales" }));
    app.get("*", (c) => c.json({ session: c.var.session }));
    const support = await sessionOf(await app.request("/support/chat", asUser("user-1")));
    const sales = await sessionOf(await app.request("/sales/chat", asUser("user-1")));
    expect(support.namespace).toBe("support");
    expect(sales.namespace).toBe("sales");
    expect(support.sessionId).not.toBe(sales.sessionId);
  });
});

describe("the session object", () => {
  it("serializes to its data fields only and exposes the manager for conversation items", async () => {
    const app = new Hono<SessionEnv>();
    app.use(threadlineSession({ userId: userFromHeader, namespace: "support" }));
    app.post("/chat", async (c) => {
      const session = c.var.session;
      await session.manager.addItems(session, [{ role: "user", content: "hi" }]);
      return c.json({
        keys: Object.keys(JSON.parse(JSON.stringify(session))),
        items: await session.manager.getItems(session),
      });
    });
    const response = await app.request("/chat", asUser("user-1", { method: "POST" }));
    expect(await response.json()).toEqual({
      // previousSessionId is undefined on a first session, so JSON leaves it out.
      keys: [
        "sessionId",
        "userId",
        "namespace",
        "isNew",
        "anonymous",
        "createdAt",
        "lastActivityAt",
        "expiresAt",
        "turns",
      ],
      items: [{ role: "user", content: "hi" }],
    });
  });

  it("lets errors of the app's own resolver reach Hono's error handler", async () => {
    const app = whoamiApp(
      threadlineSession({
        userId: () => {
          throw new Error("jwt middleware missing");
        },
      }),
    );
    app.onError((error, c) => c.json({ handled: error.message }, 500));
    const response = await app.request("/whoami");
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ handled: "jwt middleware missing" });
  });
});

describe("store: memoryStore, the factory instead of a store (issue 11.7)", () => {
  // Regression: it was taken for a store function, so every request got a new empty store and
  // a new session: nothing persisted, silently.
  it("fails at startup with INVALID_OPTION saying store: memoryStore()", () => {
    let caught: unknown;
    try {
      // @ts-expect-error TypeScript rejects the factory too; this is what JavaScript apps get
      threadlineSession({ userId: userFromHeader, store: memoryStore });
    } catch (error) {
      caught = error;
    }
    expect(SessionError.isInstance(caught) && caught.code).toBe("INVALID_OPTION");
    expect((caught as Error).message).toContain("store: memoryStore()");
  });

  it("leaves store functions that build a store per request alone (Workers bindings)", async () => {
    const shared = memoryStore();
    // A new wrapper object per request around one backend, as kvStore({ binding }) is.
    const app = whoamiApp(
      threadlineSession({ userId: userFromHeader, store: () => ({ ...shared, name: "per-request" }) }),
    );
    const first = await sessionOf(await app.request("/whoami", asUser("user-1")));
    const again = await sessionOf(await app.request("/whoami", asUser("user-1")));
    expect(again).toMatchObject({ sessionId: first.sessionId, isNew: false });
  });
});

describe("configuration mistakes fail at startup with INVALID_OPTION", () => {
  const cases: Array<[string, () => unknown, string]> = [
    ["no userId resolver", () => threadlineSession({} as ThreadlineSessionOptions), "INVALID_OPTION"],
    [
      "sessionManager with store",
      () => threadlineSession({ userId: userFromHeader, sessionManager: new SessionManager(), store: memoryStore() }),
      "INVALID_OPTION",
    ],
    [
      "sessionManager with inactivityTimeout",
      () => threadlineSession({ userId: userFromHeader, sessionManager: new SessionManager(), inactivityTimeout: 5 }),
      "INVALID_OPTION",
    ],
    [
      "an unknown onMissingUser",
      () => threadlineSession({ userId: userFromHeader, onMissingUser: "allow" as "reject" }),
      "INVALID_OPTION",
    ],
    [
      "an unknown onStoreError",
      () => threadlineSession({ userId: userFromHeader, onStoreError: "ignore" as "fail" }),
      "INVALID_OPTION",
    ],
    [
      "a header name with a space",
      () => threadlineSession({ userId: userFromHeader, responseHeader: "X Session" }),
      "INVALID_OPTION",
    ],
    [
      "sessionManager with cleanupInterval",
      () => threadlineSession({ userId: userFromHeader, sessionManager: new SessionManager(), cleanupInterval: 5 }),
      "INVALID_OPTION",
    ],
    [
      "sessionManager with a store function",
      () =>
        threadlineSession({ userId: userFromHeader, sessionManager: new SessionManager(), store: () => memoryStore() }),
      "INVALID_OPTION",
    ],
    [
      "an onError that is not a function",
      () => threadlineSession({ userId: userFromHeader, onError: "console" as unknown as () => void }),
      "INVALID_OPTION",
    ],
    [
      "a negative cleanupInterval",
      () => threadlineSession({ userId: userFromHeader, cleanupInterval: -1 }),
      "INVALID_OPTION",
    ],
    ["a blank namespace", () => threadlineSession({ userId: userFromHeader, namespace: " " }), "INVALID_NAMESPACE"],
    [
      "a blank namespace with a store function",
      () => threadlineSession({ userId: userFromHeader, namespace: "", store: () => memoryStore() }),
      "INVALID_NAMESPACE",
    ],
    ["a zero timeout", () => threadlineSession({ userId: userFromHeader, inactivityTimeout: 0 }), "INVALID_TIMEOUT"],
    [
      "an empty anonymousUserId",
      () => threadlineSession({ userId: userFromHeader, anonymousUserId: "" }),
      "INVALID_USER_ID",
    ],
  ];

  it.each(cases)("%s", (_label, build, code) => {
    let caught: unknown;
    try {
      build();
    } catch (error) {
      caught = error;
    }
    expect(SessionError.isInstance(caught) && caught.code).toBe(code);
  });
});
