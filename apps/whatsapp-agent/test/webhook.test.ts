import { describe, expect, it } from "vitest";
import { createWhatsAppApp, type DeliveryResult } from "../src/app.js";
import { createBot } from "../src/bot.js";
import { memoryDeduplicator } from "../src/deduplicator.js";
import { parseNotification } from "../src/payload.js";
import { APP_SECRET, notification, signedDelivery, VERIFY_TOKEN } from "./notification.js";

function setup() {
  const bot = createBot();
  const sessions = bot.hooks.sessionManager;
  const sent: Array<{ to: string; text: string }> = [];
  let answered = 0;
  const app = createWhatsAppApp({
    verifyToken: VERIFY_TOKEN,
    appSecret: APP_SECRET,
    respond: (message) => {
      answered++;
      return bot.respond(message);
    },
    send: async (to, text) => {
      sent.push({ to, text });
    },
  });
  return { app, sent, sessions, answered: () => answered };
}

async function deliver(app: ReturnType<typeof setup>["app"], init: RequestInit) {
  const response = await app.request("/webhook", init);
  return { status: response.status, body: (await response.json()) as { results?: DeliveryResult[]; error?: string } };
}

describe("GET /webhook verification handshake", () => {
  it("echoes the challenge for the right token", async () => {
    const { app } = setup();
    const response = await app.request(
      `/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("1158201444");
  });

  it("refuses a wrong token", async () => {
    const { app } = setup();
    const response = await app.request("/webhook?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1");
    expect(response.status).toBe(403);
  });
});

describe("POST /webhook", () => {
  it("answers a signed message in the sender's session", async () => {
    const { app, sent } = setup();
    const { status, body } = await deliver(
      app,
      await signedDelivery(notification([{ id: "wamid.1", from: "5511999999999", text: "oi" }])),
    );
    expect(status).toBe(200);
    expect(body.results).toEqual([
      {
        messageId: "wamid.1",
        from: "5511999999999",
        status: "answered",
        sessionId: expect.stringMatching(/^whatsapp-5511999999999-/),
      },
    ]);
    expect(sent).toEqual([
      { to: "5511999999999", text: "Hi! I can help with bills and with the app. What do you need?" },
    ]);
  });

  it("rejects a bad or missing signature with 401 and processes nothing", async () => {
    const { app, sent, answered, sessions } = setup();
    const body = notification([{ id: "wamid.2", from: "5511999999999", text: "oi" }]);
    const forged = await signedDelivery(body, "not-the-secret");
    expect((await deliver(app, forged)).status).toBe(401);
    const unsigned = { ...(await signedDelivery(body)), headers: { "content-type": "application/json" } };
    expect((await deliver(app, unsigned)).status).toBe(401);
    const tampered = { ...(await signedDelivery(body)), body: JSON.stringify(body).replace("oi", "pix me R$1000") };
    expect((await deliver(app, tampered)).status).toBe(401);
    expect(answered()).toBe(0);
    expect(sent).toEqual([]);
    expect(await sessions.getSessionInfo("5511999999999")).toBeNull();
  });

  it.each([
    ["not JSON", "{oops"],
    ["JSON of the wrong shape", { hello: "world" }],
    [
      "messages without ids",
      {
        object: "whatsapp_business_account",
        entry: [{ changes: [{ field: "messages", value: { messages: [{ type: "text" }] } }] }],
      },
    ],
  ])("answers 400 to a signed body that is %s, storing nothing", async (_label, body) => {
    const { app, sessions, answered } = setup();
    const { status, body: response } = await deliver(app, await signedDelivery(body));
    expect(status).toBe(400);
    expect(response.error).toMatch(/malformed notification/);
    expect(answered()).toBe(0);
    expect((await sessions.store.list?.({ now: Date.now() }))?.sessions).toEqual([]);
  });

  it("answers 413 to an oversized body before reading it", async () => {
    const { app, answered } = setup();
    const huge = notification([{ id: "wamid.3", from: "5511999999999", text: "x".repeat(100_000) }]);
    expect((await deliver(app, await signedDelivery(huge))).status).toBe(413);
    expect(answered()).toBe(0);
  });

  it("handles a retried delivery of the same message once", async () => {
    const { app, sent } = setup();
    const init = await signedDelivery(notification([{ id: "wamid.4", from: "5511999999999", text: "oi" }]));
    await deliver(app, init);
    const retry = await deliver(app, init);
    expect(retry.body.results?.[0]?.status).toBe("duplicate");
    expect(sent).toHaveLength(1);
  });

  it("gives each sender of a batched delivery their own session", async () => {
    const { app } = setup();
    const { body } = await deliver(
      app,
      await signedDelivery(
        notification([
          { id: "wamid.5", from: "5511999999999", text: "oi" },
          { id: "wamid.6", from: "5511888888888", text: "olá" },
        ]),
      ),
    );
    const [first, second] = body.results ?? [];
    expect(first?.sessionId).toMatch(/^whatsapp-5511999999999-/);
    expect(second?.sessionId).toMatch(/^whatsapp-5511888888888-/);
  });

  it("skips status updates and non-text messages", () => {
    const statusOnly = {
      object: "whatsapp_business_account",
      entry: [{ changes: [{ field: "messages", value: { statuses: [{ id: "x" }] } }] }],
    };
    expect(parseNotification(statusOnly)).toEqual([]);
  });
});

describe("memoryDeduplicator", () => {
  it("forgets ids after the retention window and bounds its size", async () => {
    let now = 0;
    const deduplicator = memoryDeduplicator({ retention: 60, maxEntries: 2, now: () => now });
    expect(await deduplicator.firstDelivery("a")).toBe(true);
    expect(await deduplicator.firstDelivery("a")).toBe(false);
    now = 61_000;
    expect(await deduplicator.firstDelivery("a")).toBe(true);
    await deduplicator.firstDelivery("b");
    await deduplicator.firstDelivery("c"); // evicts "a", the oldest
    expect(await deduplicator.firstDelivery("a")).toBe(true);
  });
});
