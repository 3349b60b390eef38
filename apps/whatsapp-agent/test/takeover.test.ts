import { createFakeClock, type FakeClock } from "@threadline/session-core/testing";
import { type RedisServer, startRedisServer } from "@threadline/store-redis/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentReply, createWhatsAppApp, type DeliveryResult } from "../src/app.js";
import {
  ClaimTakenOverError,
  type MessageDeduplicator,
  memoryDeduplicator,
  redisDeduplicator,
} from "../src/deduplicator.js";
import type { IncomingMessage } from "../src/payload.js";
import { APP_SECRET, notification, signedDelivery, VERIFY_TOKEN } from "./notification.js";

// A claim outlives its lease (a stalled instance), another instance takes the message over, then
// the first one finishes late. Two app instances, one shared deduplicator (one real Redis, or one
// memory deduplicator standing in for it), time injected: nothing here waits on the wall clock.

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

interface SharedDeduplicators {
  first: MessageDeduplicator;
  second: MessageDeduplicator;
  close(): Promise<void>;
}

const backends: Array<[string, (clock: FakeClock) => SharedDeduplicators]> = [
  [
    "Redis (two clients, one server)",
    (clock) => {
      const keyPrefix = `takeover-test:${crypto.randomUUID()}:`;
      const clients = [new Redis(redis.url), new Redis(redis.url)] as const;
      return {
        first: redisDeduplicator(clients[0], { keyPrefix, lease: 300, now: clock.now }),
        second: redisDeduplicator(clients[1], { keyPrefix, lease: 300, now: clock.now }),
        async close() {
          for (const client of clients) await client.quit();
        },
      };
    },
  ],
  [
    "memory (one deduplicator shared by both instances)",
    (clock) => {
      const shared = memoryDeduplicator({ lease: 300, now: clock.now });
      return { first: shared, second: shared, async close() {} };
    },
  ],
];

/** A respond function whose first call waits until the test settles it; later calls echo at once. */
function heldAgent(name: string) {
  let settle: { resolve: (reply: AgentReply) => void; reject: (error: Error) => void } | undefined;
  let markStarted = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  let calls = 0;
  const respond = (message: IncomingMessage): Promise<AgentReply> => {
    calls++;
    if (calls > 1) return Promise.resolve({ text: `${name}: ${message.text}`, sessionId: "s" });
    markStarted();
    return new Promise<AgentReply>((resolve, reject) => {
      settle = { resolve, reject };
    });
  };
  return {
    respond,
    started,
    calls: () => calls,
    answer: (text: string) => settle?.resolve({ text, sessionId: "s" }),
    fail: (error: Error) => settle?.reject(error),
  };
}

async function deliver(app: ReturnType<typeof createWhatsAppApp>, init: RequestInit) {
  const response = await app.request("/webhook", init);
  return { status: response.status, results: ((await response.json()) as { results: DeliveryResult[] }).results };
}

describe.each(backends)("claims taken over after their lease ran out: %s", (_name, createDeduplicators) => {
  function setup() {
    const clock = createFakeClock();
    const deduplicators = createDeduplicators(clock);
    const sent: string[] = [];
    const errors: unknown[] = [];
    const agents = { first: heldAgent("first"), second: heldAgent("second") };
    const instance = (which: "first" | "second") =>
      createWhatsAppApp({
        verifyToken: VERIFY_TOKEN,
        appSecret: APP_SECRET,
        respond: agents[which].respond,
        send: async (_to, text) => {
          sent.push(text);
        },
        deduplicator: deduplicators[which],
        onError: (error) => errors.push(error),
      });
    return { clock, deduplicators, sent, errors, agents, first: instance("first"), second: instance("second") };
  }

  /** The first instance claims the message and stalls past its lease; the second takes it over. */
  async function takeOver(context: ReturnType<typeof setup>, init: RequestInit) {
    const original = deliver(context.first, init);
    await context.agents.first.started;
    context.clock.advance(301); // the lease is 300 s
    const takeover = deliver(context.second, init);
    await context.agents.second.started;
    return { original, takeover };
  }

  it("a late release from the first instance leaves the second's claim alone", async () => {
    const context = setup();
    try {
      const init = await signedDelivery(notification([{ id: "wamid.t1", from: "5511999999999", text: "oi" }]));
      const { original, takeover } = await takeOver(context, init);
      context.agents.first.fail(new Error("model down"));
      expect(await original).toMatchObject({ status: 503, results: [{ status: "failed" }] });
      // WhatsApp redelivers while the second instance is still at it: not processed a third time.
      expect(await deliver(context.first, init)).toMatchObject({ status: 503, results: [{ status: "in-progress" }] });
      expect(context.agents.first.calls()).toBe(1);
      context.agents.second.answer("the second's reply");
      expect(await takeover).toMatchObject({ status: 200, results: [{ status: "answered" }] });
      expect(await deliver(context.first, init)).toMatchObject({ status: 200, results: [{ status: "duplicate" }] });
      expect(context.sent).toEqual(["the second's reply"]);
    } finally {
      await context.deduplicators.close();
    }
  });

  it("a late done marks the message answered and reports the takeover; the second's failure cannot undo it", async () => {
    const context = setup();
    try {
      const init = await signedDelivery(notification([{ id: "wamid.t2", from: "5511999999999", text: "oi" }]));
      const { original, takeover } = await takeOver(context, init);
      context.agents.first.answer("the first's reply");
      // The reply went out, so the message is answered; the takeover is reported, not hidden.
      expect(await original).toMatchObject({ status: 200, results: [{ status: "answered" }] });
      expect(context.errors).toEqual([expect.any(ClaimTakenOverError)]);
      expect(context.errors[0]).toMatchObject({ messageId: "wamid.t2" });
      context.agents.second.fail(new Error("model down"));
      expect(await takeover).toMatchObject({ status: 503, results: [{ status: "failed" }] });
      // The second's release must not erase the done mark: the redelivery is a duplicate, not a third run.
      expect(await deliver(context.second, init)).toMatchObject({ status: 200, results: [{ status: "duplicate" }] });
      expect(context.sent).toEqual(["the first's reply"]);
      expect(context.agents.first.calls() + context.agents.second.calls()).toBe(2);
    } finally {
      await context.deduplicators.close();
    }
  });

  it("a late release cannot drop the done mark of the instance that took over and finished", async () => {
    const context = setup();
    try {
      const init = await signedDelivery(notification([{ id: "wamid.t3", from: "5511999999999", text: "oi" }]));
      const { original, takeover } = await takeOver(context, init);
      context.agents.second.answer("the second's reply");
      expect(await takeover).toMatchObject({ status: 200, results: [{ status: "answered" }] });
      context.agents.first.fail(new Error("model down"));
      expect(await original).toMatchObject({ status: 503, results: [{ status: "failed" }] });
      expect(await deliver(context.first, init)).toMatchObject({ status: 200, results: [{ status: "duplicate" }] });
      expect(context.sent).toEqual(["the second's reply"]);
    } finally {
      await context.deduplicators.close();
    }
  });
});

describe.each(backends)("claim tokens: %s", (_name, createDeduplicators) => {
  it("only the holder's token releases or completes a claim", async () => {
    const clock = createFakeClock();
    const { first, close } = createDeduplicators(clock);
    try {
      const claim = await first.claim("m");
      if (claim.status !== "claimed") throw new Error(`expected a claim, got ${claim.status}`);
      expect(await first.release("m", "someone-else's-token")).toBe(false);
      expect((await first.claim("m")).status).toBe("in-progress");
      expect(await first.release("m", claim.token)).toBe(true);
      const again = await first.claim("m");
      if (again.status !== "claimed") throw new Error(`expected a claim, got ${again.status}`);
      expect(again.token).not.toBe(claim.token);
      expect(await first.complete("m", claim.token)).toBe("taken-over"); // a stale token: reported
      expect(await first.complete("m", again.token)).toBe("taken-over"); // already done by the stale one
      expect((await first.claim("m")).status).toBe("done");
      expect(await first.release("m", again.token)).toBe(false);
      expect((await first.claim("m")).status).toBe("done");
    } finally {
      await close();
    }
  });

  it("a claim whose lease ran out, with nobody taking over, is still its holder's to complete", async () => {
    const clock = createFakeClock();
    const { first, close } = createDeduplicators(clock);
    try {
      const claim = await first.claim("n");
      if (claim.status !== "claimed") throw new Error(`expected a claim, got ${claim.status}`);
      clock.advance(301);
      expect(await first.complete("n", claim.token)).toBe("completed");
      expect((await first.claim("n")).status).toBe("done");
    } finally {
      await close();
    }
  });
});
