// The middleware inside workerd: Hono's app.request with a real ExecutionContext, and the test
// Worker's real fetch entry point with stores built per request from KV and Durable Object bindings.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { type ErrorContext, globalSessionId, memoryStore } from "@threadline/session-core";
import { createFakeClock, faultyStore, hostileIds, uniqueNamespace } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { asUser, postJson, type SessionJson, sessionApp, sessionOf, userFromBody, userFromHeader } from "../apps.js";

describe("in workerd, through app.request", () => {
  it("renews, rolls over after the timeout, and cleans up through the real waitUntil", async () => {
    const clock = createFakeClock();
    const store = memoryStore();
    const { app } = sessionApp({
      userId: userFromHeader,
      namespace: "edge",
      store,
      now: clock.now,
      inactivityTimeout: 60,
      cleanupInterval: 30,
    });
    const send = async (user: string): Promise<SessionJson> => {
      const context = createExecutionContext();
      const response = await app.request("/whoami", asUser(user), {}, context);
      await waitOnExecutionContext(context);
      return sessionOf(response);
    };

    const first = await send("user-123");
    expect(first).toMatchObject({ sessionId: "edge-user-123-20250107-120000", isNew: true });
    clock.advance(59);
    expect(await send("user-123")).toMatchObject({ sessionId: first.sessionId, isNew: false });
    await send("user-456");
    clock.advance(60); // user-123 (renewed at +59 s) and user-456 both expired at +119 s
    const next = await send("user-123");
    expect(next).toMatchObject({ isNew: true, sessionId: "edge-user-123-20250107-120159" });
    // The cleanup ran in waitUntil during that request: the expired user-456 is gone.
    expect(store.size).toBe(1);
  });

  it("keeps the manager's cleanup alive in the request's waitUntil until it finishes", async () => {
    const clock = createFakeClock();
    const inner = memoryStore();
    // The memory store, with sweeps that wait for the test: the cleanup is still running when
    // the response is sent, so only waitUntil can keep it.
    const store = faultyStore(inner);
    const open = store.hold({ operations: ["sweep"] });
    const { app } = sessionApp({ userId: userFromHeader, store, now: clock.now });
    for (const user of ["a", "b", "c"]) {
      const context = createExecutionContext();
      await app.request("/whoami", asUser(user), {}, context);
      await waitOnExecutionContext(context);
    }
    clock.advance(200);
    const context = createExecutionContext();
    expect((await app.request("/whoami", asUser("d"), {}, context)).status).toBe(200);
    let drained = false;
    const draining = waitOnExecutionContext(context).then(() => {
      drained = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 0)); // one turn of the event loop: enough to drain an empty context
    expect(drained).toBe(false); // the runtime is still holding the request open for the cleanup
    open();
    await draining;
    expect(inner.size).toBe(1);
  });

  it("runs a slow, rejecting onSessionEnd on after the response through the real waitUntil; onError hears it", async () => {
    const clock = createFakeClock();
    const reported: Array<{ message: string; context: ErrorContext }> = [];
    const ended: string[] = [];
    const { app } = sessionApp({
      userId: userFromHeader,
      namespace: "edge",
      now: clock.now,
      cleanupInterval: 0,
      onSessionEnd: async ({ session, reason }) => {
        await new Promise((resolve) => setTimeout(resolve, 20)); // a survey API call
        ended.push(`${session.sessionId} ${reason}`);
        throw new Error("survey service down");
      },
      onError: (error, context) => reported.push({ message: error.message, context }),
    });
    const first = await sessionOf(await app.request("/whoami", asUser("user-1"), {}, createExecutionContext()));
    clock.advance(121);
    const context = createExecutionContext();
    const response = await app.request("/whoami", asUser("user-1"), {}, context);
    expect(response.status).toBe(200);
    expect(await sessionOf(response)).toMatchObject({ isNew: true, previousSessionId: first.sessionId });
    expect(ended).toEqual([]); // the response did not wait for the callback
    await waitOnExecutionContext(context);
    expect(ended).toEqual([`${first.sessionId} expired`]);
    expect(reported).toEqual([
      {
        message: "survey service down",
        context: { operation: "onSessionEnd", userId: "user-1", sessionId: first.sessionId },
      },
    ]);
  });

  it("sends globalSessionId for hostile ids; the handler runs once and its response is sent", async () => {
    const { app, handled } = sessionApp({ userId: userFromBody, responseHeader: true });
    for (const id of [...hostileIds, "李雷"]) {
      const response = await app.request("/whoami", postJson({ from: id }), {}, createExecutionContext());
      const session = await sessionOf(response);
      expect(response.headers.get("x-session-id")).toBe(globalSessionId(session));
    }
    expect(handled.count).toBe(hostileIds.length + 1);
  });

  it("gives concurrent requests of one user one session and never shares between users", async () => {
    const { app } = sessionApp({ userId: userFromHeader });
    const sessions = await Promise.all(
      ["alice", "bob", "alice", "bob", "alice", "bob"].map(async (user) =>
        sessionOf(await app.request("/whoami", asUser(user), {}, createExecutionContext())),
      ),
    );
    const alice = new Set(sessions.filter((session) => session.userId === "alice").map((session) => session.sessionId));
    const bob = new Set(sessions.filter((session) => session.userId === "bob").map((session) => session.sessionId));
    expect(alice.size).toBe(1);
    expect(bob.size).toBe(1);
    expect([...alice][0]).not.toBe([...bob][0]);
    expect(sessions.filter((session) => session.isNew)).toHaveLength(2);
  });

  it("keeps hostile ids from JSON bodies apart", async () => {
    const { app } = sessionApp({ userId: userFromBody, idFormat: "uuid" });
    const sessions = await Promise.all(
      hostileIds.map(async (id) => sessionOf(await app.request("/whoami", postJson({ from: id }), {}))),
    );
    expect(sessions.map((session) => session.userId)).toEqual([...hostileIds]);
    expect(new Set(sessions.map((session) => session.sessionId)).size).toBe(hostileIds.length);
  });

  it("answers 401 without a user, or gives the anonymous session", async () => {
    const rejecting = sessionApp({ userId: userFromHeader });
    expect((await rejecting.app.request("/whoami", {}, {}, createExecutionContext())).status).toBe(401);
    const anonymous = sessionApp({ userId: userFromHeader, onMissingUser: "anonymous" });
    const session = await sessionOf(await anonymous.app.request("/whoami", {}, {}, createExecutionContext()));
    expect(session).toMatchObject({ userId: "anonymous", anonymous: true });
  });

  it("answers 503 when the store is down, or runs the handler without a session", async () => {
    const store = faultyStore();
    store.fail();
    const failing = sessionApp({ userId: userFromHeader, store, onError: () => {} });
    const response = await failing.app.request("/whoami", asUser("user-1"), {}, createExecutionContext());
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: "session_store_unavailable", code: "STORE_UNAVAILABLE" });

    const continuing = sessionApp({ userId: userFromHeader, store, onStoreError: "continue", onError: () => {} });
    const degraded = await continuing.app.request("/whoami", asUser("user-1"), {}, createExecutionContext());
    expect(await degraded.json()).toEqual({ session: null, body: null });
  });
});

describe("in workerd, through the Worker's fetch with stores from bindings", () => {
  async function chat(path: string, userId: string): Promise<{ session: SessionJson; header: string | null }> {
    const response = await exports.default.fetch(`https://edge.example${path}`, {
      headers: { "x-user-id": encodeURIComponent(userId) },
    });
    return { session: await sessionOf(response), header: response.headers.get("x-session-id") };
  }

  it.each(["/memory/chat", "/durable-object/chat", "/kv/chat"])("keeps one session per user (%s)", async (path) => {
    const user = uniqueNamespace(); // a user no other test has used
    const first = await chat(path, user);
    expect(first.session).toMatchObject({ userId: user, namespace: "edge", isNew: true });
    const again = await chat(path, user);
    expect(again.session).toMatchObject({ sessionId: first.session.sessionId, isNew: false });
    const other = await chat(path, `${user}-other`);
    expect(other.session.sessionId).not.toBe(first.session.sessionId);
  });

  it("gives concurrent first requests of one user one session with the Durable Object store", async () => {
    const user = uniqueNamespace();
    const results = await Promise.all(Array.from({ length: 5 }, () => chat("/durable-object/chat", user)));
    expect(new Set(results.map((result) => result.session.sessionId)).size).toBe(1);
  });

  it("sends the session header on the KV route, which asked for it", async () => {
    const result = await chat("/kv/chat", uniqueNamespace());
    expect(result.header).toBe(globalSessionId(result.session));
  });

  it("answers 401 on a binding-backed route when no user is named", async () => {
    const response = await exports.default.fetch("https://edge.example/durable-object/chat");
    expect(response.status).toBe(401);
  });
});
