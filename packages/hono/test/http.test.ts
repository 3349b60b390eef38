// The middleware's behaviour through real HTTP requests: every scenario runs twice, once with
// Hono's in-process `app.request` and once against a real @hono/node-server on a loopback port.
import {
  type ErrorContext,
  globalSessionId,
  memoryStore,
  type ResolveRequest,
  SessionError,
  SessionManager,
} from "@threadline/session-core";
import {
  createFakeClock,
  faultyStore,
  GUIDE_EPOCH,
  hostileIds,
  invalidUserIds,
} from "@threadline/session-core/testing";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { type SessionEnv, threadlineSession } from "../src/index.js";
import { asUser, postJson, sessionApp, sessionOf, userFromBody, userFromHeader } from "./apps.js";
import { type Connection, type ServableApp, transports } from "./transports.js";

describe.each(transports)("through $name", (transport) => {
  const open: Connection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((connection) => connection.close()));
  });
  const connect = async (app: ServableApp): Promise<Connection> => {
    const connection = await transport.open(app);
    open.push(connection);
    return connection;
  };

  describe("renewal and rollover", () => {
    it("creates the session on the first request and renews it on the next", async () => {
      const clock = createFakeClock();
      const { app } = sessionApp({ userId: userFromHeader, namespace: "support", now: clock.now });
      const server = await connect(app);

      const first = await sessionOf(await server.request("/whoami", asUser("user-123")));
      expect(first).toEqual({
        sessionId: "support-user-123-20250107-120000",
        userId: "user-123",
        namespace: "support",
        isNew: true,
        anonymous: false,
        createdAt: GUIDE_EPOCH,
        lastActivityAt: GUIDE_EPOCH,
        expiresAt: GUIDE_EPOCH + 120_000,
        turns: 1,
      });

      clock.advance(100);
      const second = await sessionOf(await server.request("/whoami", asUser("user-123")));
      expect(second).toMatchObject({ sessionId: first.sessionId, isNew: false, createdAt: GUIDE_EPOCH, turns: 2 });
      expect(second.lastActivityAt).toBe(GUIDE_EPOCH + 100_000);
      expect(second.expiresAt).toBe(GUIDE_EPOCH + 220_000);

      // Renewed at +100 s, so still live at +219.9 s although created 219.9 s ago.
      clock.advance(119.9);
      expect((await sessionOf(await server.request("/whoami", asUser("user-123")))).sessionId).toBe(first.sessionId);
    });

    it("rolls over to a new session after the inactivity timeout", async () => {
      const clock = createFakeClock();
      const { app } = sessionApp({
        userId: userFromHeader,
        namespace: "support",
        inactivityTimeout: 30,
        now: clock.now,
      });
      const server = await connect(app);

      const first = await sessionOf(await server.request("/whoami", asUser("user-123")));
      clock.advance(29.999);
      expect((await sessionOf(await server.request("/whoami", asUser("user-123")))).sessionId).toBe(first.sessionId);
      clock.advance(30); // exactly the timeout since the last request: expired
      const next = await sessionOf(await server.request("/whoami", asUser("user-123")));
      expect(next.isNew).toBe(true);
      expect(next.sessionId).toBe("support-user-123-20250107-120059");
      expect(next.createdAt).toBe(GUIDE_EPOCH + 59_999);
    });

    it("close() ends the session; the next request gets a different id in the same second", async () => {
      const clock = createFakeClock();
      const { app } = sessionApp({ userId: userFromHeader, namespace: "support", now: clock.now });
      const server = await connect(app);

      const first = await sessionOf(await server.request("/whoami", asUser("user-123")));
      const closed = await server.request("/close", asUser("user-123", { method: "POST" }));
      expect(await closed.json()).toEqual({ closed: true });
      const next = await sessionOf(await server.request("/whoami", asUser("user-123")));
      expect(next.isNew).toBe(true);
      expect(next.sessionId).not.toBe(first.sessionId);
      expect(next.sessionId).toBe("support-user-123-20250107-120000-2");
    });

    it("close() never ends a newer session that another request started meanwhile", async () => {
      const store = memoryStore();
      const manager = new SessionManager({ store, namespace: "support" });
      const app = new Hono<SessionEnv>();
      app.use(threadlineSession({ userId: userFromHeader, sessionManager: manager }));
      app.post("/close", async (c) => {
        // Another request of the same user rolls the session over while this one runs.
        const newer = await manager.resolve(c.var.session.userId, undefined, { forceNew: true });
        return c.json({ closed: await c.var.session.close(), newer: newer.sessionId });
      });
      const server = await connect(app);
      const response = (await (await server.request("/close", asUser("user-123", { method: "POST" }))).json()) as {
        closed: boolean;
        newer: string;
      };
      expect(response.closed).toBe(false);
      expect((await manager.getSessionInfo("user-123"))?.sessionId).toBe(response.newer);
    });
  });

  describe("who gets which session", () => {
    it("gives concurrent requests of one user one session", async () => {
      const store = memoryStore();
      const { app } = sessionApp({ userId: userFromHeader, store });
      const server = await connect(app);

      const sessions = await Promise.all(
        Array.from({ length: 40 }, async () => sessionOf(await server.request("/whoami", asUser("5511999999999")))),
      );
      expect(new Set(sessions.map((session) => session.sessionId)).size).toBe(1);
      expect(sessions.filter((session) => session.isNew)).toHaveLength(1);
      expect(store.size).toBe(1);
    });

    it("never lets two users share a session, even when their requests interleave", async () => {
      const { app } = sessionApp({ userId: userFromHeader, namespace: "support" });
      const server = await connect(app);
      const users = ["alice", "bob", "a-b", "a", "support-alice"];

      const sessions = await Promise.all(
        users.flatMap((user) =>
          Array.from({ length: 5 }, async () => sessionOf(await server.request("/whoami", asUser(user)))),
        ),
      );
      const idsByUser = new Map<string, Set<string>>();
      for (const session of sessions) {
        const ids = idsByUser.get(session.userId) ?? new Set();
        ids.add(session.sessionId);
        idsByUser.set(session.userId, ids);
      }
      expect([...idsByUser.keys()].sort()).toEqual([...users].sort());
      for (const ids of idsByUser.values()) expect(ids.size).toBe(1);
      const allIds = [...idsByUser.values()].flatMap((ids) => [...ids]);
      expect(new Set(allIds).size).toBe(users.length);
    });

    it("ignores a session id the client sends, in headers, cookies or the query", async () => {
      const { app } = sessionApp({ userId: userFromHeader, namespace: "support" });
      const server = await connect(app);
      const victim = await sessionOf(await server.request("/whoami", asUser("victim")));

      const attacker = await sessionOf(
        await server.request(
          `/whoami?sessionId=${encodeURIComponent(victim.sessionId)}`,
          asUser("attacker", {
            headers: {
              "x-session-id": victim.sessionId,
              "x-threadline-session": victim.sessionId,
              cookie: `sid=${victim.sessionId}; session=${victim.sessionId}`,
            },
          }),
        ),
      );
      expect(attacker.userId).toBe("attacker");
      expect(attacker.sessionId).not.toBe(victim.sessionId);
      expect(attacker.isNew).toBe(true);
    });
  });

  describe("hostile ids", () => {
    it("keeps every hostile id from a header apart and returns it unchanged", async () => {
      const store = memoryStore();
      const { app } = sessionApp({ userId: userFromHeader, store, idFormat: "uuid" });
      const server = await connect(app);

      const sessions = await Promise.all(
        hostileIds.map(async (id) => sessionOf(await server.request("/whoami", asUser(id)))),
      );
      expect(sessions.map((session) => session.userId)).toEqual([...hostileIds]);
      expect(new Set(sessions.map((session) => session.sessionId)).size).toBe(hostileIds.length);
      expect(store.size).toBe(hostileIds.length);
    });

    it("keeps every hostile id from a JSON body apart, and the handler can still read the body", async () => {
      const { app } = sessionApp({ userId: userFromBody, namespace: "whatsapp" });
      const server = await connect(app);

      for (const id of hostileIds) {
        const response = await server.request("/whoami", postJson({ from: id, text: "hi" }));
        const json = (await response.json()) as { session: { userId: string; namespace: string }; body: unknown };
        expect(json.session.userId).toBe(id);
        expect(json.session.namespace).toBe("whatsapp");
        expect(json.body).toEqual({ from: id, text: "hi" });
      }
      // The second round renews rather than creates: every id found its own session again.
      for (const id of hostileIds) {
        expect((await sessionOf(await server.request("/whoami", postJson({ from: id })))).isNew).toBe(false);
      }
    });

    it.each(invalidUserIds.filter((entry) => entry.value !== undefined && entry.value !== null))(
      "answers 400 to an invalid user id in a JSON body ($label) and stores nothing",
      async ({ value }) => {
        const store = memoryStore();
        const { app, handled } = sessionApp({ userId: userFromBody, store });
        const server = await connect(app);

        const response = await server.request("/whoami", postJson({ from: value }));
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: "invalid_user_id", code: "INVALID_USER_ID" });
        expect(handled.count).toBe(0);
        expect(store.size).toBe(0);
      },
    );

    it("answers 400 to a blank or malformed user id header and stores nothing", async () => {
      const store = memoryStore();
      const { app, handled } = sessionApp({ userId: userFromHeader, store });
      const server = await connect(app);

      for (const raw of ["%20%20", "%E0%A4%A", "", encodeURIComponent("a".repeat(257))]) {
        const response = await server.request("/whoami", { headers: { "x-user-id": raw } });
        expect(response.status).toBe(400);
        expect(((await response.json()) as { code: string }).code).toBe("INVALID_USER_ID");
      }
      expect(handled.count).toBe(0);
      expect(store.size).toBe(0);
    });
  });

  describe("when the resolver finds no user", () => {
    it('"reject" (the default) answers 401 and the handler does not run', async () => {
      const store = memoryStore();
      const { app, handled } = sessionApp({ userId: userFromHeader, store });
      const server = await connect(app);

      const response = await server.request("/whoami");
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await response.json()).toEqual({ error: "unauthenticated", code: "MISSING_USER" });
      expect(handled.count).toBe(0);
      expect(store.size).toBe(0);
    });

    it('"anonymous" gives the request the anonymous session', async () => {
      const { app, handled } = sessionApp({ userId: userFromBody, onMissingUser: "anonymous", namespace: "support" });
      const server = await connect(app);

      const first = await sessionOf(await server.request("/whoami", postJson({ text: "no sender" })));
      expect(first).toMatchObject({ userId: "anonymous", anonymous: true, isNew: true });
      expect(first.sessionId).toMatch(/^support-anonymous-\d{8}-\d{6}$/);
      // Every request without a user shares that one session (documented): the second one renews it.
      expect((await sessionOf(await server.request("/whoami", postJson({ text: "me too" })))).sessionId).toBe(
        first.sessionId,
      );
      const named = await sessionOf(await server.request("/whoami", postJson({ from: "anonymous" })));
      expect(named.anonymous).toBe(false);
      expect(handled.count).toBe(3);
    });

    it("a custom anonymousUserId keeps anonymous requests apart from a real user of that name", async () => {
      const { app } = sessionApp({
        userId: userFromHeader,
        onMissingUser: "anonymous",
        anonymousUserId: "guest:web",
      });
      const server = await connect(app);

      const guest = await sessionOf(await server.request("/whoami"));
      const user = await sessionOf(await server.request("/whoami", asUser("anonymous")));
      expect(guest.userId).toBe("guest:web");
      expect(user.sessionId).not.toBe(guest.sessionId);
    });

    it("a function answers with its own response", async () => {
      const { app, handled } = sessionApp({
        userId: userFromHeader,
        onMissingUser: (c) => c.json({ login: "/auth" }, 401, { "WWW-Authenticate": 'Bearer realm="chat"' }),
      });
      const server = await connect(app);

      const response = await server.request("/whoami");
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="chat"');
      expect(await response.json()).toEqual({ login: "/auth" });
      expect(handled.count).toBe(0);
    });
  });

  describe("bounded by default", () => {
    it("with the default memory store, 200 users an hour later leave only the live session", async () => {
      const clock = createFakeClock();
      const managers = new Set<SessionManager>();
      const app = new Hono<SessionEnv>();
      app.use(threadlineSession({ userId: userFromHeader, now: clock.now }));
      app.get("/", (c) => {
        managers.add(c.var.session.manager);
        return c.text(c.var.session.sessionId);
      });
      const server = await connect(app);

      for (let index = 0; index < 200; index++) {
        expect((await server.request("/", asUser(`user-${index}`))).status).toBe(200);
      }
      const [manager] = managers;
      expect(manager?.store).toMatchObject({ name: "memory", size: 200 });

      clock.advance(3600);
      expect((await server.request("/", asUser("back-an-hour-later"))).status).toBe(200);
      await manager?.flush(); // the cleanup that request started runs after its response
      expect(managers.size).toBe(1);
      expect(manager?.store).toMatchObject({ name: "memory", size: 1 });
    });
  });

  describe("when the store is down", () => {
    it('"fail" (the default) answers 503 with the code, reports the error, and recovers with the store', async () => {
      const store = faultyStore();
      const reported: Error[] = [];
      const { app, handled } = sessionApp({ userId: userFromHeader, store, onError: (error) => reported.push(error) });
      const server = await connect(app);

      store.fail();
      const response = await server.request("/whoami", asUser("user-1"));
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ error: "session_store_unavailable", code: "STORE_UNAVAILABLE" });
      expect(handled.count).toBe(0);
      expect(reported.map((error) => SessionError.isInstance(error) && error.code)).toEqual(["STORE_UNAVAILABLE"]);

      store.fail({ code: "bare-error" }); // a store that breaks the contract and throws a plain Error
      const broken = await server.request("/whoami", asUser("user-1"));
      expect(broken.status).toBe(503);
      const body = await broken.text();
      expect(JSON.parse(body)).toEqual({ error: "session_store_unavailable", code: "STORE_ERROR" });
      expect(body).not.toContain("socket hang up"); // store internals stay on the server

      store.recover();
      expect((await sessionOf(await server.request("/whoami", asUser("user-1")))).isNew).toBe(true);
    });

    it('"continue" runs the handler without a session and reports the error', async () => {
      const store = faultyStore();
      const reported: Array<{ error: Error; context: ErrorContext }> = [];
      const { app, handled } = sessionApp({
        userId: userFromHeader,
        store,
        onStoreError: "continue",
        onError: (error, context) => reported.push({ error, context }),
      });
      const server = await connect(app);

      store.fail();
      const response = await server.request("/whoami", asUser("user-1"));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ session: null, body: null });
      expect(handled.count).toBe(1);
      expect(reported).toEqual([
        { error: expect.any(SessionError), context: { operation: "resolve", userId: "user-1" } },
      ]);

      store.recover();
      expect((await sessionOf(await server.request("/whoami", asUser("user-1")))).isNew).toBe(true);
    });

    it("a throwing onError hook does not turn the failure into a crash", async () => {
      const store = faultyStore();
      const { app } = sessionApp({
        userId: userFromHeader,
        store,
        onError: () => {
          throw new Error("logger down too");
        },
      });
      const server = await connect(app);
      store.fail();
      expect((await server.request("/whoami", asUser("user-1"))).status).toBe(503);
    });
  });

  describe("the response header", () => {
    it("is absent by default", async () => {
      const { app } = sessionApp({ userId: userFromHeader });
      const server = await connect(app);
      const response = await server.request("/whoami", asUser("user-1"));
      expect(response.headers.get("x-session-id")).toBeNull();
    });

    it('carries globalSessionId(session) with responseHeader: true ("X-Session-Id") or a custom name', async () => {
      const { app } = sessionApp({ userId: userFromHeader, namespace: "support", responseHeader: true });
      const server = await connect(app);
      const response = await server.request("/whoami", asUser("user-1"));
      const session = await sessionOf(response);
      expect(response.headers.get("x-session-id")).toBe(`support/user-1/${session.sessionId}`);

      const custom = sessionApp({ userId: userFromHeader, responseHeader: "Conversation-Id" });
      const other = await connect(custom.app);
      const customResponse = await other.request("/whoami", asUser("user-1"));
      expect(customResponse.headers.get("conversation-id")).toBe(globalSessionId(await sessionOf(customResponse)));
    });

    // Regression (issue 10.6): the raw id went into the header, and `Headers.set` threw for CR/LF,
    // NUL or characters beyond Latin-1 — a 500 after the handler had run, which clients retry.
    it("never fails the request for hostile ids: the handler runs once and its response is sent", async () => {
      const { app, handled } = sessionApp({ userId: userFromHeader, namespace: "ação", responseHeader: true });
      const server = await connect(app);
      const ids = [...hostileIds, "李雷"];

      const headers = new Set<string>();
      for (const id of ids) {
        const before = handled.count;
        const response = await server.request("/whoami", asUser(id));
        const session = await sessionOf(response);
        expect(handled.count).toBe(before + 1);
        const header = response.headers.get("x-session-id") ?? "";
        expect(header).toMatch(/^[\x21-\x7e]+$/);
        expect(header.split("/").map(decodeURIComponent)).toEqual(["ação", id, session.sessionId]);
        headers.add(header);
      }
      expect(headers.size).toBe(ids.length);
    });

    it("reports a header it cannot encode instead of failing the request", async () => {
      // The core refuses ill-formed ids it creates; a buggy third-party store can still return
      // one (a lone surrogate), which no encoding can put in a header.
      const reported: ErrorContext[] = [];
      const inner = memoryStore();
      const store = {
        ...inner,
        resolve: (request: ResolveRequest) => ({ ...inner.resolve(request), sessionId: "broken-\ud800" }),
      };
      const { app, handled } = sessionApp({
        userId: userFromHeader,
        store,
        responseHeader: true,
        onError: (_error, context) => reported.push(context),
      });
      const server = await connect(app);
      const response = await server.request("/whoami", asUser("user-1"));
      expect(response.status).toBe(200);
      expect(response.headers.get("x-session-id")).toBeNull();
      expect(handled.count).toBe(1);
      expect(reported).toEqual([{ operation: "response-header", userId: "user-1", sessionId: "broken-\ud800" }]);
    });

    it("refuses a custom idFormat's ill-formed id before the handler runs", async () => {
      const { app, handled } = sessionApp({
        userId: userFromHeader,
        idFormat: () => "broken-\ud800",
        responseHeader: true,
      });
      const server = await connect(app);
      const response = await server.request("/whoami", asUser("user-1"));
      expect(response.status).toBe(500); // a configuration bug, for the app's error handler
      expect(handled.count).toBe(0);
    });

    it("is unique per pair where the readable session id is not", async () => {
      const clock = createFakeClock();
      const { app } = sessionApp({
        userId: userFromHeader,
        namespace: "support-vip",
        responseHeader: true,
        now: clock.now,
      });
      const other = sessionApp({ userId: userFromHeader, namespace: "support", responseHeader: true, now: clock.now });
      const [one, two] = [await connect(app), await connect(other.app)];
      const first = await one.request("/whoami", asUser("123"));
      const second = await two.request("/whoami", asUser("vip-123"));
      expect((await sessionOf(first)).sessionId).toBe((await sessionOf(second)).sessionId);
      expect(first.headers.get("x-session-id")).not.toBe(second.headers.get("x-session-id"));
    });
  });
});
