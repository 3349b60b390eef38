import { createFakeClock } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { createWhatsAppApp, type DeliveryResult } from "../src/app.js";
import { createBot } from "../src/bot.js";
import { APP_SECRET, notification, signedDelivery, VERIFY_TOKEN } from "./notification.js";

// The bot end to end through HTTP: webhook → triage agent → specialist, on the real Runner,
// with threadline sessions and memory, and time injected.
function setup() {
  const clock = createFakeClock();
  const bot = createBot({ now: clock.now, inactivityTimeout: 120 });
  const sent: Array<{ to: string; text: string }> = [];
  const app = createWhatsAppApp({
    verifyToken: VERIFY_TOKEN,
    appSecret: APP_SECRET,
    respond: bot.respond,
    send: async (to, text) => {
      sent.push({ to, text });
    },
  });
  let counter = 0;
  async function say(from: string, text: string): Promise<DeliveryResult & { reply: string | undefined }> {
    const init = await signedDelivery(notification([{ id: `wamid.${++counter}`, from, text }]));
    const response = await app.request("/webhook", init);
    const { results } = (await response.json()) as { results: DeliveryResult[] };
    const result = results[0] as DeliveryResult;
    return { ...result, reply: sent.filter((message) => message.to === from).at(-1)?.text };
  }
  return { clock, bot, say };
}

describe("the WhatsApp bot", () => {
  it("hands billing questions to the specialist, who remembers the session's earlier turns", async () => {
    const { say, clock } = setup();
    const first = await say("5511999999999", "oi");
    expect(first.reply).toBe("Hi! I can help with bills and with the app. What do you need?");
    clock.advance(20);
    const second = await say("5511999999999", "my bill is wrong, I paid twice");
    expect(second.reply).toBe("Billing here. I can see your 1 earlier message in this conversation.");
    expect(second.sessionId).toBe(first.sessionId);
  });

  it("starts a fresh conversation after 120 s of silence, seeded with a digest of the last", async () => {
    const { say, clock } = setup();
    const first = await say("5511999999999", "oi");
    clock.advance(121);
    const later = await say("5511999999999", "the app shows an error");
    expect(later.sessionId).not.toBe(first.sessionId);
    // Nothing of the old conversation but the carry-over's digest of it: the user's last message, our answer.
    expect(later.reply).toBe(
      'Technical support here. This is a new conversation; my note from the last one: the user last wrote "oi"; we answered "Hi! I can help with bills and with the app. What do you need?".',
    );
  });

  it("keeps concurrent phone numbers apart", async () => {
    const { say } = setup();
    const numbers = Array.from({ length: 8 }, (_, index) => `55119${String(index).padStart(8, "0")}`);
    const firsts = await Promise.all(numbers.map((number) => say(number, "oi")));
    const seconds = await Promise.all(numbers.map((number) => say(number, "refund please")));
    for (const [index, number] of numbers.entries()) {
      expect(firsts[index]?.sessionId).toMatch(new RegExp(`^whatsapp-${number}-`));
      expect(seconds[index]?.sessionId).toBe(firsts[index]?.sessionId);
      // Each specialist sees exactly its own user's one earlier message, never another user's.
      expect(seconds[index]?.reply).toBe("Billing here. I can see your 1 earlier message in this conversation.");
    }
  });
});
