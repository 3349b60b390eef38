// Redis crashing under load and Redis paused: every call settles within the store's bound
// with STORE_UNAVAILABLE, and the same manager works again once Redis is back. With the
// clients' default settings (ioredis retries 20 times and queues offline; node-redis queues
// offline) callers would otherwise stall or hang; with the README's fail-fast settings the
// clients reject at once while disconnected, and the bound still covers a paused server.
import { SessionError, SessionManager } from "@threadline/session-core";
import { uniqueNamespace } from "@threadline/session-core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisStore } from "../src/index.js";
import { type RedisServer, startRedisServer } from "../src/testing/redis-server.js";
import { connectSingle, type TestClient } from "./clients.js";

const TIMEOUT_MS = 300;
// A call must settle within the store's timeout plus this much: timers run late on a machine
// busy with other test suites, and the point is "bounded", not "punctual". Without the store's
// timeout a paused Redis would hold these calls forever.
const SCHEDULING_SLACK_MS = 2_000;

interface Outcome {
  ok: boolean;
  code: string | undefined;
  elapsedMs: number;
}

async function attempt(operation: () => Promise<unknown>): Promise<Outcome> {
  const started = performance.now();
  try {
    await operation();
    return { ok: true, code: undefined, elapsedMs: performance.now() - started };
  } catch (error) {
    const code = SessionError.isInstance(error) ? error.code : `not a SessionError: ${String(error)}`;
    return { ok: false, code, elapsedMs: performance.now() - started };
  }
}

/** Calls `operation` until it succeeds (the store recovering), or fails the test after `limitMs`. */
async function untilItWorks(operation: () => Promise<unknown>, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if ((await attempt(operation)).ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the store did not recover within ${limitMs} ms`);
}

describe.each([
  ["ioredis@5", "default settings"],
  ["ioredis@5", "the README's recommended settings"],
  ["redis@5", "default settings"],
  ["redis@5", "the README's recommended settings"],
] as const)("%s with %s", (flavor, settings) => {
  let server: RedisServer;
  let connection: TestClient;
  let sessions: SessionManager;

  beforeAll(async () => {
    server = await startRedisServer();
    connection = await connectSingle(flavor, server.url, { recommended: settings !== "default settings" });
    sessions = new SessionManager({
      store: redisStore({ client: connection.client, operationTimeoutMs: TIMEOUT_MS }),
      namespace: uniqueNamespace(),
    });
  });
  afterAll(async () => {
    await connection.close();
    await server.stop();
  });

  it("turns a crash under load into STORE_UNAVAILABLE within the bound, then recovers after a restart", async () => {
    const outcomes: Outcome[] = [];
    let running = true;
    const worker = async (index: number) => {
      for (let call = 0; running; call++) {
        const outcome = await attempt(() => sessions.getOrCreateSession(`user-${index}-${call % 10}`));
        outcomes.push(outcome);
        // A client without an offline queue fails at once; yield so timers and I/O still run.
        if (!outcome.ok) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const load = Promise.all(Array.from({ length: 16 }, (_, index) => worker(index)));
    await untilItWorks(() => sessions.getOrCreateSession("warm"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const servedBeforeCrash = outcomes.filter((outcome) => outcome.ok).length;

    await server.kill();
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS * 3));
    await server.restart();
    await untilItWorks(() => sessions.getOrCreateSession("after-restart"));
    const recoveredAt = outcomes.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    running = false;
    await load;

    expect(servedBeforeCrash).toBeGreaterThan(0);
    const failures = outcomes.filter((outcome) => !outcome.ok);
    expect(failures.length).toBeGreaterThan(0);
    expect(new Set(failures.map((outcome) => outcome.code))).toEqual(new Set(["STORE_UNAVAILABLE"]));
    const slowest = Math.max(...outcomes.map((outcome) => outcome.elapsedMs));
    expect(slowest).toBeLessThan(TIMEOUT_MS + SCHEDULING_SLACK_MS);
    // The same manager serves again: the load's calls after recovery succeed.
    expect(outcomes.slice(recoveredAt).filter((outcome) => outcome.ok).length).toBeGreaterThan(0);
  });

  it("gives STORE_UNAVAILABLE within the bound while Redis is paused (SIGSTOP), then works after SIGCONT", async () => {
    const before = await sessions.getOrCreateSession("paused-user");
    server.pause();
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, index) => attempt(() => sessions.getOrCreateSession(`paused-${index}`))),
      );
      for (const outcome of outcomes) {
        expect(outcome).toMatchObject({ ok: false, code: "STORE_UNAVAILABLE" });
        expect(outcome.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
        expect(outcome.elapsedMs).toBeLessThan(TIMEOUT_MS + SCHEDULING_SLACK_MS);
      }
      const error = await sessions.updateActivity("paused-user").catch((caught: unknown) => caught);
      expect((error as Error).message).toMatch(/did not answer touch within 300 ms \(operationTimeoutMs\)/);
    } finally {
      server.resume();
    }
    await untilItWorks(() => sessions.getOrCreateSession("paused-user"));
    expect(await sessions.getOrCreateSession("paused-user")).toBe(before);
  });
});
