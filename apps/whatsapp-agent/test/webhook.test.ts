import { describe, expect, it } from "vitest";
import { type AgentReply, createWhatsAppApp, type DeliveryResult } from "../src/app.js";
import { createBot } from "../src/bot.js";
import { appFromEnvironment, ConfigurationError } from "../src/config.js";
import { memoryDeduplicator } from "../src/deduplicator.js";
import type { IncomingMessage } from "../src/payload.js";
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

describe("secrets", () => {
  it("refuses to start without a real app secret, instead of accepting the public demo one", async () => {
    expect(() => appFromEnvironment({})).toThrow(ConfigurationError);
    expect(() => appFromEnvironment({ WHATSAPP_TOKEN: "t", WHATSAPP_PHONE_NUMBER_ID: "1" })).toThrow(
      /WHATSAPP_APP_SECRET is not set/,
    );
    expect(() => appFromEnvironment({ WHATSAPP_APP_SECRET: "", WHATSAPP_VERIFY_TOKEN: "v" })).toThrow(
      /WHATSAPP_APP_SECRET is not set/,
    );
    expect(() => appFromEnvironment({ WHATSAPP_APP_SECRET: "demo-app-secret", WHATSAPP_VERIFY_TOKEN: "v" })).toThrow(
      /public demo value/,
    );
    expect(() => appFromEnvironment({ WHATSAPP_APP_SECRET: "s" })).toThrow(/WHATSAPP_VERIFY_TOKEN is not set/);
  });

  it("fails at start, not with a 500 per request, when the app is given an empty secret", () => {
    expect(() =>
      createWhatsAppApp({
        verifyToken: "v",
        appSecret: "",
        respond: async () => ({ text: "", sessionId: "" }),
        send: async () => {},
      }),
    ).toThrow(/appSecret is required/);
  });

  it("runs the demo secrets only in the explicit demo mode, which cannot send", async () => {
    expect(() =>
      appFromEnvironment({ WHATSAPP_DEMO: "1", WHATSAPP_TOKEN: "t", WHATSAPP_PHONE_NUMBER_ID: "1" }),
    ).toThrow(/never sends/);
    const { app, close } = appFromEnvironment({ WHATSAPP_DEMO: "1" });
    const log = console.log;
    const printed: string[] = [];
    console.log = (line: string) => printed.push(line);
    try {
      const init = await signedDelivery(
        notification([{ id: "wamid.demo", from: "5511999999999", text: "oi" }]),
        "demo-app-secret",
      );
      expect((await app.request("/webhook", init)).status).toBe(200);
      expect(printed).toEqual(["  -> 5511999999999: Hi! I can help with bills and with the app. What do you need?"]);
    } finally {
      console.log = log;
      await close();
    }
  });

  it("with real secrets, a delivery signed with the demo secret is refused", async () => {
    const { app, close } = appFromEnvironment({
      WHATSAPP_APP_SECRET: "real-secret",
      WHATSAPP_VERIFY_TOKEN: "real-token",
    });
    try {
      const body = notification([{ id: "wamid.forged", from: "5511999999999", text: "oi" }]);
      expect((await app.request("/webhook", await signedDelivery(body, "demo-app-secret"))).status).toBe(401);
    } finally {
      await close();
    }
  });
});

/** A promise with its resolve function, to hold a request in the middle of processing. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe("redelivery after a failure", () => {
  it("answers 503 when processing fails, so WhatsApp's redelivery is processed instead of dropped", async () => {
    const bot = createBot();
    const sent: string[] = [];
    const errors: unknown[] = [];
    let failNext = true;
    const app = createWhatsAppApp({
      verifyToken: VERIFY_TOKEN,
      appSecret: APP_SECRET,
      respond: (message) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error("model timed out"));
        }
        return bot.respond(message);
      },
      send: async (_to, text) => {
        sent.push(text);
      },
      onError: (error) => errors.push(error),
    });
    const init = await signedDelivery(notification([{ id: "wamid.f1", from: "5511999999999", text: "oi" }]));
    const failed = await deliver(app, init);
    expect(failed.status).toBe(503);
    expect(failed.body.results?.[0]?.status).toBe("failed");
    expect(errors).toHaveLength(1);
    const retried = await deliver(app, init);
    expect(retried.status).toBe(200);
    expect(retried.body.results?.[0]?.status).toBe("answered");
    expect(sent).toEqual(["Hi! I can help with bills and with the app. What do you need?"]);
    const again = await deliver(app, init);
    expect(again).toMatchObject({ status: 200, body: { results: [{ status: "duplicate" }] } });
    expect(sent).toHaveLength(1);
  });

  it("a failed send is retried too (the reply never reached the user)", async () => {
    let sendFails = true;
    const sent: string[] = [];
    const app = createWhatsAppApp({
      verifyToken: VERIFY_TOKEN,
      appSecret: APP_SECRET,
      respond: async (message) => ({ text: `echo ${message.text}`, sessionId: "s" }),
      send: async (_to, text) => {
        if (sendFails) {
          sendFails = false;
          throw new Error("Graph API 500");
        }
        sent.push(text);
      },
      onError: () => {},
    });
    const init = await signedDelivery(notification([{ id: "wamid.f2", from: "5511999999999", text: "oi" }]));
    expect((await deliver(app, init)).status).toBe(503);
    expect((await deliver(app, init)).status).toBe(200);
    expect(sent).toEqual(["echo oi"]);
  });

  it("a duplicate arriving while the message is processed elsewhere is not processed twice, and not dropped", async () => {
    // Two instances sharing one deduplicator, as two processes share Redis.
    const deduplicator = memoryDeduplicator();
    const held = gate();
    const started = gate();
    let responded = 0;
    const respond = async (message: IncomingMessage): Promise<AgentReply> => {
      responded++;
      started.open();
      await held.promise;
      return { text: `echo ${message.text}`, sessionId: "s" };
    };
    const sent: string[] = [];
    const instance = () =>
      createWhatsAppApp({
        verifyToken: VERIFY_TOKEN,
        appSecret: APP_SECRET,
        respond,
        send: async (_to, text) => {
          sent.push(text);
        },
        deduplicator,
      });
    const [first, second] = [instance(), instance()];
    const init = await signedDelivery(notification([{ id: "wamid.p1", from: "5511999999999", text: "oi" }]));
    const original = deliver(first, init);
    await started.promise;
    const overlapping = await deliver(second, init);
    // Not 200: if the original then failed, a 200 here would have told WhatsApp to stop retrying.
    expect(overlapping.status).toBe(503);
    expect(overlapping.body.results?.[0]?.status).toBe("in-progress");
    held.open();
    expect((await original).body.results?.[0]?.status).toBe("answered");
    expect((await deliver(second, init)).body.results?.[0]?.status).toBe("duplicate");
    expect(responded).toBe(1);
    expect(sent).toEqual(["echo oi"]);
  });
});

describe("ordering", () => {
  it("answers one sender's batched messages in order, each seeing the ones before it", async () => {
    const { app, sent } = setup();
    const { status } = await deliver(
      app,
      await signedDelivery(
        notification([
          { id: "wamid.o1", from: "5511999999999", text: "my bill is wrong" },
          { id: "wamid.o2", from: "5511999999999", text: "the invoice is wrong" },
          { id: "wamid.o3", from: "5511999999999", text: "refund please" },
        ]),
      ),
    );
    expect(status).toBe(200);
    expect(sent.map((message) => message.text)).toEqual([
      "Billing here. This is the start of our conversation.",
      "Billing here. I can see your 1 earlier message in this conversation.",
      "Billing here. I can see your 2 earlier messages in this conversation.",
    ]);
  });

  it("runs different senders in parallel but never two messages of one sender at once", async () => {
    const bot = createBot();
    const events: string[] = [];
    const app = createWhatsAppApp({
      verifyToken: VERIFY_TOKEN,
      appSecret: APP_SECRET,
      respond: async (message) => {
        events.push(`start ${message.text}`);
        const reply = await bot.respond(message);
        events.push(`end ${message.text}`);
        return reply;
      },
      send: async () => {},
    });
    const delivery = notification([
      { id: "wamid.q1", from: "5511999999999", text: "a1" },
      { id: "wamid.q2", from: "5511888888888", text: "b1" },
      { id: "wamid.q3", from: "5511999999999", text: "a2" },
    ]);
    // A second request for sender a, arriving while the first is still being processed.
    const later = notification([{ id: "wamid.q4", from: "5511999999999", text: "a3" }]);
    const responses = await Promise.all([
      app.request("/webhook", await signedDelivery(delivery)),
      app.request("/webhook", await signedDelivery(later)),
    ]);
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    const at = (event: string) => events.indexOf(event);
    expect(at("start b1")).toBeLessThan(at("end a1")); // parallel across senders
    expect(at("end a1")).toBeLessThan(at("start a2")); // one at a time per sender, in order
    expect(at("end a2")).toBeLessThan(at("start a3"));
  });

  it("defers a sender's later messages when an earlier one fails, so the redelivery keeps their order", async () => {
    const replies: string[] = [];
    let failFirst = true;
    const app = createWhatsAppApp({
      verifyToken: VERIFY_TOKEN,
      appSecret: APP_SECRET,
      respond: async (message) => {
        if (message.text === "first" && failFirst) {
          failFirst = false;
          throw new Error("model down");
        }
        return { text: message.text, sessionId: "s" };
      },
      send: async (_to, text) => {
        replies.push(text);
      },
      onError: () => {},
    });
    const init = await signedDelivery(
      notification([
        { id: "wamid.d1", from: "5511999999999", text: "first" },
        { id: "wamid.d2", from: "5511999999999", text: "second" },
        { id: "wamid.d3", from: "5511888888888", text: "other sender" },
      ]),
    );
    const failed = await deliver(app, init);
    expect(failed.status).toBe(503);
    expect(failed.body.results?.map((result) => result.status)).toEqual(["failed", "deferred", "answered"]);
    const retried = await deliver(app, init);
    expect(retried.body.results?.map((result) => result.status)).toEqual(["answered", "answered", "duplicate"]);
    expect(replies).toEqual(["other sender", "first", "second"]);
  });
});

describe("memoryDeduplicator", () => {
  it("forgets done ids after the retention window and bounds its size", async () => {
    let now = 0;
    const deduplicator = memoryDeduplicator({ retention: 60, maxEntries: 2, now: () => now });
    const deliverOnce = async (id: string) => {
      const claim = await deduplicator.claim(id);
      if (claim.status === "claimed") await deduplicator.complete(id, claim.token);
      return claim.status;
    };
    expect(await deliverOnce("a")).toBe("claimed");
    expect(await deliverOnce("a")).toBe("done");
    now = 61_000;
    expect(await deliverOnce("a")).toBe("claimed");
    await deliverOnce("b");
    await deliverOnce("c"); // evicts "a", the oldest
    expect(await deliverOnce("a")).toBe("claimed");
  });

  it("lets a released or abandoned claim be taken again", async () => {
    let now = 0;
    const deduplicator = memoryDeduplicator({ lease: 30, now: () => now });
    const claim = await deduplicator.claim("m");
    if (claim.status !== "claimed") throw new Error(`expected a claim, got ${claim.status}`);
    expect(await deduplicator.claim("m")).toEqual({ status: "in-progress" });
    expect(await deduplicator.release("m", claim.token)).toBe(true);
    expect((await deduplicator.claim("m")).status).toBe("claimed");
    now = 31_000; // the holder died without releasing: its lease ran out
    expect((await deduplicator.claim("m")).status).toBe("claimed");
  });
});
