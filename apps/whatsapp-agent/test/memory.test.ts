import { createFakeClock } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { createWhatsAppApp, type DeliveryResult } from "../src/app.js";
import { createBot } from "../src/bot.js";
import { DIGEST_PREFIX } from "../src/carry-over.js";
import { APP_SECRET, notification, signedDelivery, VERIFY_TOKEN } from "./notification.js";

// The conversation memory behind the webhook: a redelivered message is in the history once
// (its WhatsApp id is the operation id), and a new conversation starts from a digest of the last.
function setup(options: { carryOver?: boolean; failSends?: number } = {}) {
  const clock = createFakeClock();
  const bot = createBot({
    now: clock.now,
    inactivityTimeout: 120,
    ...(options.carryOver === undefined ? {} : { carryOver: options.carryOver }),
  });
  const sent: Array<{ to: string; text: string }> = [];
  let failures = options.failSends ?? 0;
  const app = createWhatsAppApp({
    verifyToken: VERIFY_TOKEN,
    appSecret: APP_SECRET,
    respond: bot.respond,
    send: async (to, text) => {
      if (failures-- > 0) throw new Error("Graph API down");
      sent.push({ to, text });
    },
    onError: () => {},
  });
  const deliver = async (id: string, from: string, text: string) => {
    const response = await app.request("/webhook", await signedDelivery(notification([{ id, from, text }])));
    const { results } = (await response.json()) as { results: DeliveryResult[] };
    return { status: response.status, result: results[0] as DeliveryResult, reply: sent.at(-1)?.text };
  };
  const items = async (from: string) => {
    const manager = bot.hooks.sessionManager;
    return manager.getItems(await manager.resolve(from, bot.hooks.namespace));
  };
  const userTexts = async (from: string) =>
    (await items(from)).flatMap((item) => {
      const { role, content } = item as { role?: string; content?: unknown };
      return role === "user" && typeof content === "string" ? [content] : [];
    });
  return { clock, bot, sent, deliver, items, userTexts };
}

const ada = "5511999990001";

describe("message ids as operation ids", () => {
  it("the same webhook posted twice: answered once, and the message is in the history once", async () => {
    const { deliver, userTexts, sent } = setup();
    const first = await deliver("wamid.A1", ada, "my bill is wrong");
    const again = await deliver("wamid.A1", ada, "my bill is wrong");
    expect([first.status, first.result.status]).toEqual([200, "answered"]);
    expect([again.status, again.result.status]).toEqual([200, "duplicate"]);
    expect(sent).toHaveLength(1);
    expect(await userTexts(ada)).toEqual(["my bill is wrong"]);
  });

  it("a redelivery that runs the agent again (the first reply's send failed) appends nothing", async () => {
    const { deliver, items, userTexts, sent } = setup({ failSends: 1 });
    const failed = await deliver("wamid.B1", ada, "my bill is wrong");
    expect([failed.status, failed.result.status]).toEqual([503, "failed"]);
    const afterFirstAttempt = await items(ada);
    expect(afterFirstAttempt.length).toBeGreaterThan(1); // the turn was stored before the send failed

    const redelivered = await deliver("wamid.B1", ada, "my bill is wrong");
    expect([redelivered.status, redelivered.result.status]).toEqual([200, "answered"]);
    expect(sent).toHaveLength(1);
    expect(await items(ada)).toEqual(afterFirstAttempt);
    expect(await userTexts(ada)).toEqual(["my bill is wrong"]);

    // The next message is a turn of its own, appended as usual.
    const next = await deliver("wamid.B2", ada, "and the refund?");
    expect(next.reply).toBe("Billing here. I can see your 1 earlier message in this conversation.");
    expect(await userTexts(ada)).toEqual(["my bill is wrong", "and the refund?"]);
  });
});

describe("carry-over", () => {
  it("starts the next conversation from a digest of the one that ended, once", async () => {
    const { clock, deliver, items } = setup();
    await deliver("wamid.C1", ada, "oi");
    clock.advance(10);
    const billing = await deliver("wamid.C2", ada, "my bill for March came twice");
    clock.advance(121);

    const back = await deliver("wamid.C3", ada, "hello again");
    expect(back.result.sessionId).not.toBe(billing.result.sessionId);
    expect(back.reply).toBe(
      'Welcome back! My note from last time: the user last wrote "my bill for March came twice"; we answered "Billing here. I can see your 1 earlier message in this conversation.". How can I help now?',
    );
    const seeded = await items(ada);
    expect(seeded[0]).toEqual({
      role: "system",
      content: `${DIGEST_PREFIX} the user last wrote "my bill for March came twice"; we answered "Billing here. I can see your 1 earlier message in this conversation.".`,
    });
    // The digest is a note, not a message of the user: the specialist counts only what the user said here.
    clock.advance(5);
    const specialist = await deliver("wamid.C4", ada, "the app shows an error");
    expect(specialist.reply).toBe("Technical support here. I can see your 1 earlier message in this conversation.");

    // The next conversation carries this one's digest, not the first one's.
    clock.advance(121);
    await deliver("wamid.C5", ada, "hi");
    const next = await items(ada);
    expect(next[0]).toEqual({
      role: "system",
      content: `${DIGEST_PREFIX} the user last wrote "the app shows an error"; we answered "Technical support here. I can see your 1 earlier message in this conversation.".`,
    });
    expect(JSON.stringify(next)).not.toContain("came twice");
  });

  it("is opt-out: with carryOver false a new conversation starts empty", async () => {
    const { clock, deliver, items } = setup({ carryOver: false });
    await deliver("wamid.D1", ada, "my bill came twice");
    clock.advance(121);
    const back = await deliver("wamid.D2", ada, "hello again");
    expect(back.reply).toBe("Hi! I can help with bills and with the app. What do you need?");
    expect((await items(ada))[0]).toMatchObject({ role: "user", content: "hello again" });
  });
});
