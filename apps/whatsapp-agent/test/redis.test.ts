import { createFakeClock } from "@threadline/session-core/testing";
import { redisStore } from "@threadline/store-redis";
import { type RedisServer, startRedisServer } from "@threadline/store-redis/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createWhatsAppApp, type DeliveryResult } from "../src/app.js";
import { createBot } from "../src/bot.js";
import { DIGEST_PREFIX } from "../src/carry-over.js";
import { appFromEnvironment } from "../src/config.js";
import { redisDeduplicator } from "../src/deduplicator.js";
import { notification, signedDelivery } from "./notification.js";

// With REDIS_URL, two instances of the app behind a load balancer are one bot: sessions,
// memory and message dedupe live in Redis (a redis-server of the test's own, on a free port).
type AppInstance = ReturnType<typeof appFromEnvironment>["app"];

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis.stop();
});

it("shares sessions, memory and dedupe between instances through Redis", async () => {
  const environment = {
    REDIS_URL: redis.url,
    WHATSAPP_APP_SECRET: "redis-test-secret",
    WHATSAPP_VERIFY_TOKEN: "redis-test-token",
  };
  const instances = [appFromEnvironment(environment), appFromEnvironment(environment)];
  const [first, second] = instances.map(({ app }) => app) as [AppInstance, AppInstance];
  const deliver = async (app: AppInstance, id: string, text: string) => {
    const init = await signedDelivery(notification([{ id, from: "5511999999999", text }]), "redis-test-secret");
    const response = await app.request("/webhook", init);
    return ((await response.json()) as { results: DeliveryResult[] }).results[0];
  };
  const log = console.log;
  const printed: string[] = [];
  console.log = (line: string) => printed.push(line); // the offline sender prints replies
  try {
    const hello = await deliver(first, `wamid.${crypto.randomUUID()}`, "oi");
    const billing = await deliver(second, `wamid.${crypto.randomUUID()}`, "my invoice is wrong");
    expect(billing?.sessionId).toBe(hello?.sessionId);
    // The second instance's specialist sees the turn the first instance stored.
    expect(printed.at(-1)).toBe(
      "  -> 5511999999999: Billing here. I can see your 1 earlier message in this conversation.",
    );
    expect(hello?.sessionId).toMatch(/^whatsapp-5511999999999-/);
    const retryId = `wamid.${crypto.randomUUID()}`;
    expect((await deliver(first, retryId, "refund"))?.status).toBe("answered");
    expect((await deliver(second, retryId, "refund"))?.status).toBe("duplicate");
  } finally {
    console.log = log;
    for (const instance of instances) await instance.close();
  }
});

it("claims, releases and completes message ids in Redis, so a failed message can be claimed again", async () => {
  const client = new Redis(redis.url);
  try {
    const deduplicator = redisDeduplicator(client, { keyPrefix: `dedupe-test:${crypto.randomUUID()}:` });
    const first = await deduplicator.claim("m");
    if (first.status !== "claimed") throw new Error(`expected a claim, got ${first.status}`);
    expect(await deduplicator.claim("m")).toEqual({ status: "in-progress" });
    expect(await deduplicator.release("m", first.token)).toBe(true);
    const second = await deduplicator.claim("m");
    if (second.status !== "claimed") throw new Error(`expected a claim, got ${second.status}`);
    expect(await deduplicator.complete("m", second.token)).toBe("completed");
    expect(await deduplicator.claim("m")).toEqual({ status: "done" });
  } finally {
    await client.quit();
  }
});

it("by default the Redis server's clock times the lease (checked against an app clock on the same machine)", async () => {
  const clients = [new Redis(redis.url), new Redis(redis.url)] as const;
  try {
    const keyPrefix = `dedupe-clock-test:${crypto.randomUUID()}:`;
    const server = redisDeduplicator(clients[0], { keyPrefix, lease: 300 });
    // This machine's clock, 10 s short of and 10 s past the server's lease: only the second may take over.
    const early = redisDeduplicator(clients[1], { keyPrefix, lease: 300, now: () => Date.now() + 290_000 });
    const late = redisDeduplicator(clients[1], { keyPrefix, lease: 300, now: () => Date.now() + 310_000 });
    const claim = await server.claim("m");
    expect(claim.status).toBe("claimed");
    expect(await early.claim("m")).toEqual({ status: "in-progress" });
    const takeover = await late.claim("m");
    expect(takeover.status).toBe("claimed");
    if (claim.status !== "claimed" || takeover.status !== "claimed") return;
    expect(await server.release("m", claim.token)).toBe(false); // too late: not its claim any more
    expect(await server.claim("m")).toEqual({ status: "in-progress" });
  } finally {
    for (const client of clients) await client.quit();
  }
});

it("a redelivery that lands on another instance and runs the agent again leaves the message in the history once", async () => {
  const client = new Redis(redis.url);
  const store = redisStore({ client, keyPrefix: `redelivery-${crypto.randomUUID()}:` });
  // Two instances: their own bot (manager, agents) and app, one Redis.
  let failSends = 1;
  const instances = [0, 1].map(() => {
    const bot = createBot({ store, carryOver: false });
    const app = createWhatsAppApp({
      verifyToken: "redis-test-token",
      appSecret: "redis-test-secret",
      respond: bot.respond,
      send: async () => {
        if (failSends-- > 0) throw new Error("Graph API down");
      },
      deduplicator: redisDeduplicator(client),
      onError: () => {},
    });
    return { bot, app };
  });
  const [first, second] = instances as [(typeof instances)[0], (typeof instances)[0]];
  const deliver = async (app: AppInstance, id: string, text: string) => {
    const init = await signedDelivery(notification([{ id, from: "5511888888888", text }]), "redis-test-secret");
    const response = await app.request("/webhook", init);
    return { status: response.status, result: ((await response.json()) as { results: DeliveryResult[] }).results[0] };
  };
  const userTexts = async () => {
    const manager = second.bot.hooks.sessionManager;
    const items = await manager.getItems(await manager.resolve("5511888888888", second.bot.hooks.namespace));
    return items.flatMap((item) => {
      const { role, content } = item as { role?: string; content?: unknown };
      return role === "user" && typeof content === "string" ? [content] : [];
    });
  };
  try {
    const id = `wamid.${crypto.randomUUID()}`;
    expect((await deliver(first.app, id, "my invoice is wrong")).status).toBe(503); // stored, not sent
    const redelivered = await deliver(second.app, id, "my invoice is wrong");
    expect([redelivered.status, redelivered.result?.status]).toEqual([200, "answered"]);
    expect(await userTexts()).toEqual(["my invoice is wrong"]);
  } finally {
    await Promise.all(instances.map(({ bot }) => bot.hooks.flush()));
    await client.quit();
  }
});

it("carry-over across instances: a conversation that ended on one seeds the next on the other, once", async () => {
  const client = new Redis(redis.url);
  const store = redisStore({ client, keyPrefix: `carry-${crypto.randomUUID()}:`, clock: "app" }); // the fake clock decides
  const clock = createFakeClock();
  const instances = [0, 1].map(() => {
    const bot = createBot({ store, now: clock.now, inactivityTimeout: 120 });
    const sent: string[] = [];
    const app = createWhatsAppApp({
      verifyToken: "redis-test-token",
      appSecret: "redis-test-secret",
      respond: bot.respond,
      send: async (_to, text) => void sent.push(text),
      deduplicator: redisDeduplicator(client, { now: clock.now }),
      onError: () => {},
    });
    return { bot, app, sent };
  });
  const [first, second] = instances as [(typeof instances)[0], (typeof instances)[0]];
  const from = "5511777777777";
  const deliver = async (app: AppInstance, text: string) => {
    const init = await signedDelivery(
      notification([{ id: `wamid.${crypto.randomUUID()}`, from, text }]),
      "redis-test-secret",
    );
    return (await app.request("/webhook", init)).status;
  };
  try {
    expect(await deliver(first.app, "my invoice is wrong")).toBe(200);
    clock.advance(121);
    expect(await deliver(second.app, "hello again")).toBe(200);
    expect(second.sent.at(-1)).toBe(
      'Welcome back! My note from last time: the user last wrote "my invoice is wrong"; we answered "Billing here. This is the start of our conversation.". How can I help now?',
    );
    const manager = first.bot.hooks.sessionManager;
    const items = await manager.getItems(await manager.resolve(from, first.bot.hooks.namespace));
    expect(items.filter((item) => JSON.stringify(item).includes(DIGEST_PREFIX))).toHaveLength(1);
  } finally {
    await Promise.all(instances.map(({ bot }) => bot.hooks.flush()));
    await client.quit();
  }
});
