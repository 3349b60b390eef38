// Session lifecycle through the middleware: onSessionStart/onSessionEnd given to threadlineSession
// reach the manager it builds, fire on real requests (in process and over a socket), never fail a
// request, and run on after the response on Workers through executionCtx.waitUntil.
import {
  type ErrorContext,
  type SessionEndEvent,
  SessionError,
  SessionManager,
  type SessionStartEvent,
} from "@threadline/session-core";
import { createFakeClock, GUIDE_EPOCH } from "@threadline/session-core/testing";
import { type ExecutionContext, Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { type SessionEnv, type ThreadlineSessionOptions, threadlineSession } from "../src/index.js";
import { asUser, type SessionJson, sessionOf, userFromHeader } from "./apps.js";
import { type Connection, transports } from "./transports.js";

/** What the callbacks saw, in the order they ran. */
type Heard = Array<{ start: SessionStartEvent } | { end: SessionEndEvent }>;

/** An ExecutionContext as Workers passes it, recording what the middleware hands to `waitUntil`. */
function executionContext(): ExecutionContext & { waited: Promise<unknown>[] } {
  const waited: Promise<unknown>[] = [];
  return { waited, waitUntil: (promise) => void waited.push(promise), passThroughOnException: () => {}, props: {} };
}

/**
 * `GET /whoami` answers the session; `POST /bye` closes it. Remembers the managers the middleware
 * built, so tests can `flush()` them.
 */
function lifecycleApp(options: Omit<ThreadlineSessionOptions<SessionEnv>, "userId">) {
  const managers = new Set<SessionManager>();
  const app = new Hono<SessionEnv>();
  app.use(threadlineSession({ userId: userFromHeader, namespace: "support", ...options }));
  app.get("/whoami", (c) => {
    managers.add(c.var.session.manager);
    return c.json({ session: c.var.session });
  });
  app.post("/bye", async (c) => c.json({ closed: await c.var.session.close() }));
  const flush = () => Promise.all([...managers].map((manager) => manager.flush()));
  return { app, flush };
}

describe.each(transports)("lifecycle callbacks through $name", (transport) => {
  const open: Connection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((connection) => connection.close()));
  });

  it("start on the first request, end (expired) before the next start when the user comes back", async () => {
    const clock = createFakeClock();
    const heard: Heard = [];
    const { app, flush } = lifecycleApp({
      now: clock.now,
      inactivityTimeout: 120,
      onSessionStart: (start) => void heard.push({ start }),
      onSessionEnd: (end) => void heard.push({ end }),
    });
    const server = await transport.open(app);
    open.push(server);

    const first = await sessionOf(await server.request("/whoami", asUser("user-123")));
    await flush();
    expect(heard).toEqual([{ start: { session: expect.objectContaining({ sessionId: first.sessionId, turns: 1 }) } }]);

    clock.advance(30);
    const renewed = await sessionOf(await server.request("/whoami", asUser("user-123")));
    await flush();
    expect(renewed).toMatchObject({ sessionId: first.sessionId, isNew: false, turns: 2 });
    expect(heard).toHaveLength(1); // a renewal starts and ends nothing

    clock.advance(121); // quiet for longer than the timeout
    const second: SessionJson = await sessionOf(await server.request("/whoami", asUser("user-123")));
    await flush();
    expect(second).toMatchObject({ isNew: true, turns: 1, previousSessionId: first.sessionId });
    expect(heard.slice(1)).toEqual([
      {
        end: {
          session: expect.objectContaining({ sessionId: first.sessionId, userId: "user-123", turns: 2 }),
          reason: "expired",
          endedAt: GUIDE_EPOCH + 30_000 + 120_000, // the last request plus the timeout, not the time it was noticed
        },
      },
      {
        start: {
          session: expect.objectContaining({ sessionId: second.sessionId, isNew: true }),
          previousSessionId: first.sessionId,
        },
      },
    ]);
  });

  it("a throwing onSessionStart and a rejecting onSessionEnd never fail a request; onError hears both", async () => {
    const clock = createFakeClock();
    const reported: Array<{ message: string; context: ErrorContext }> = [];
    const { app, flush } = lifecycleApp({
      now: clock.now,
      onSessionStart: () => {
        throw new Error("analytics down");
      },
      onSessionEnd: async () => {
        throw new Error("survey service down");
      },
      onError: (error, context) => reported.push({ message: error.message, context }),
    });
    const server = await transport.open(app);
    open.push(server);

    const first = await sessionOf(await server.request("/whoami", asUser("user-1")));
    clock.advance(121);
    const second = await sessionOf(await server.request("/whoami", asUser("user-1")));
    const bye = await server.request("/bye", asUser("user-1", { method: "POST" }));
    expect(bye.status).toBe(200);
    expect(await bye.json()).toEqual({ closed: true });
    await flush();

    // The third request renewed the second session (no event), then its handler closed it. The
    // order of reports is not the order of delivery: a sync throw is reported a tick before a rejection.
    expect(reported).toHaveLength(4);
    expect(reported).toEqual(
      expect.arrayContaining([
        {
          message: "analytics down",
          context: { operation: "onSessionStart", userId: "user-1", sessionId: first.sessionId },
        },
        {
          message: "survey service down",
          context: { operation: "onSessionEnd", userId: "user-1", sessionId: first.sessionId },
        },
        {
          message: "analytics down",
          context: { operation: "onSessionStart", userId: "user-1", sessionId: second.sessionId },
        },
        {
          message: "survey service down",
          context: { operation: "onSessionEnd", userId: "user-1", sessionId: second.sessionId },
        },
      ]),
    );
  });
});

describe("lifecycle limits through the middleware", () => {
  it("maxTurns: the request that would be turn maxTurns + 1 starts a new session (end reason max-turns)", async () => {
    const clock = createFakeClock();
    const ends: SessionEndEvent[] = [];
    const { app, flush } = lifecycleApp({ now: clock.now, maxTurns: 2, onSessionEnd: (end) => void ends.push(end) });
    const first = await sessionOf(await app.request("/whoami", asUser("user-1")));
    expect((await sessionOf(await app.request("/whoami", asUser("user-1")))).sessionId).toBe(first.sessionId);
    clock.advance(1);
    const third = await sessionOf(await app.request("/whoami", asUser("user-1")));
    await flush();
    expect(third).toMatchObject({ isNew: true, turns: 1, previousSessionId: first.sessionId });
    expect(ends).toEqual([
      {
        session: expect.objectContaining({ sessionId: first.sessionId, turns: 2 }),
        reason: "max-turns",
        endedAt: GUIDE_EPOCH + 1000,
      },
    ]);
  });

  it("maxDuration: an active session still ends at createdAt + maxDuration (end reason max-duration)", async () => {
    const clock = createFakeClock();
    const ends: SessionEndEvent[] = [];
    const { app, flush } = lifecycleApp({
      now: clock.now,
      maxDuration: 300,
      onSessionEnd: (end) => void ends.push(end),
    });
    const first = await sessionOf(await app.request("/whoami", asUser("user-1")));
    expect(first.expiresAt).toBe(GUIDE_EPOCH + 120_000);
    for (let minute = 1; minute <= 4; minute++) {
      clock.advance(60);
      expect((await sessionOf(await app.request("/whoami", asUser("user-1")))).sessionId).toBe(first.sessionId);
    }
    clock.advance(60); // 300 s after creation, active all along
    const next = await sessionOf(await app.request("/whoami", asUser("user-1")));
    await flush();
    expect(next.sessionId).not.toBe(first.sessionId);
    expect(ends).toEqual([
      {
        session: expect.objectContaining({ sessionId: first.sessionId }),
        reason: "max-duration",
        endedAt: GUIDE_EPOCH + 300_000,
      },
    ]);
  });
});

describe("lifecycle callbacks on Workers (executionCtx.waitUntil)", () => {
  /** A callback that stays in flight until the test calls `finish()`. */
  function heldCallback() {
    let finish: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const calls: string[] = [];
    const done: string[] = [];
    return {
      calls,
      done,
      finish,
      callback: async (event: SessionStartEvent | SessionEndEvent) => {
        calls.push(event.session.sessionId);
        await gate;
        done.push(event.session.sessionId);
      },
    };
  }

  it("hands a slow onSessionEnd to waitUntil: the response does not wait, the callback finishes after it", async () => {
    const clock = createFakeClock();
    const survey = heldCallback();
    const { app } = lifecycleApp({ now: clock.now, cleanupInterval: 0, onSessionEnd: survey.callback });

    const quiet = executionContext();
    const first = await sessionOf(await app.request("/whoami", asUser("user-1"), {}, quiet));
    expect(quiet.waited).toHaveLength(0); // no callback in flight: waitUntil is not touched

    clock.advance(121);
    const rollover = executionContext();
    const response = await app.request("/whoami", asUser("user-1"), {}, rollover);
    expect(response.status).toBe(200); // answered while the survey is still being sent
    expect(survey.calls).toEqual([first.sessionId]);
    expect(survey.done).toEqual([]);
    expect(rollover.waited).toHaveLength(1);

    survey.finish();
    await Promise.all(rollover.waited);
    expect(survey.done).toEqual([first.sessionId]);
  });

  it("hands an onSessionEnd caused by close() in the handler to waitUntil too", async () => {
    const survey = heldCallback();
    const { app } = lifecycleApp({ cleanupInterval: 0, onSessionEnd: survey.callback });
    const first = await sessionOf(await app.request("/whoami", asUser("user-1")));
    const context = executionContext();
    expect((await app.request("/bye", asUser("user-1", { method: "POST" }), {}, context)).status).toBe(200);
    expect(context.waited).toHaveLength(1);
    survey.finish();
    await Promise.all(context.waited);
    expect(survey.done).toEqual([first.sessionId]);
  });

  it("a rejecting onSessionEnd never fails the request and reaches onError through the waitUntil promise", async () => {
    const clock = createFakeClock();
    const reported: Array<{ message: string; context: ErrorContext }> = [];
    const { app } = lifecycleApp({
      now: clock.now,
      cleanupInterval: 0,
      onSessionEnd: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new Error("survey service down");
      },
      onError: (error, context) => reported.push({ message: error.message, context }),
    });
    const first = await sessionOf(await app.request("/whoami", asUser("user-1"), {}, executionContext()));
    clock.advance(121);
    const context = executionContext();
    const response = await app.request("/whoami", asUser("user-1"), {}, context);
    expect(response.status).toBe(200);
    expect(reported).toEqual([]); // still running when the response was sent
    expect(context.waited).toHaveLength(1);
    await expect(Promise.all(context.waited)).resolves.toBeDefined(); // the waitUntil promise never rejects
    expect(reported).toEqual([
      {
        message: "survey service down",
        context: { operation: "onSessionEnd", userId: "user-1", sessionId: first.sessionId },
      },
    ]);
  });
});

describe("lifecycle options with an injected sessionManager", () => {
  it.each(["maxDuration", "maxTurns", "retention", "onSessionStart", "onSessionEnd"] as const)(
    "%s beside sessionManager throws INVALID_OPTION at startup",
    (name) => {
      const value = name.startsWith("on") ? () => {} : 10;
      let caught: unknown;
      try {
        threadlineSession({ userId: userFromHeader, sessionManager: new SessionManager(), [name]: value });
      } catch (error) {
        caught = error;
      }
      expect(SessionError.isInstance(caught) && caught.code).toBe("INVALID_OPTION");
    },
  );
});
