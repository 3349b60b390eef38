import type { ErrorContext } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";
import { createWhatsAppApp, type DeliveryResult } from "../src/app.js";
import { createBot } from "../src/bot.js";
import { appFromEnvironment, DEMO_SECRETS } from "../src/config.js";
import { sessionEndSurvey } from "../src/survey.js";
import { APP_SECRET, notification, signedDelivery, VERIFY_TOKEN } from "./notification.js";

const SURVEY =
  /^Thanks for talking with us \(\d+ messages?\)! How did we do\? Reply with a number from 1 \(poor\) to 5 \(great\)\.$/;

// At session end (onSessionEnd) the user gets a short survey through the app's own send path,
// end to end: webhook → bot → threadline session → end → survey, on an injected clock.
function setup(options: { failSurveys?: boolean } = {}) {
  const clock = createFakeClock();
  const sent: Array<{ to: string; text: string }> = [];
  const failures: Array<{ error: Error; context: ErrorContext }> = [];
  const send = async (to: string, text: string) => {
    if (options.failSurveys && SURVEY.test(text)) throw new Error("Graph API down");
    sent.push({ to, text });
  };
  const bot = createBot({
    now: clock.now,
    inactivityTimeout: 120,
    onSessionEnd: sessionEndSurvey({ send }),
    onError: (error, context) => failures.push({ error, context }),
  });
  const app = createWhatsAppApp({ verifyToken: VERIFY_TOKEN, appSecret: APP_SECRET, respond: bot.respond, send });
  let counter = 0;
  async function say(from: string, text: string): Promise<{ status: number; result: DeliveryResult }> {
    const response = await app.request(
      "/webhook",
      await signedDelivery(notification([{ id: `wamid.${++counter}`, from, text }])),
    );
    const { results } = (await response.json()) as { results: DeliveryResult[] };
    return { status: response.status, result: results[0] as DeliveryResult };
  }
  const manager = bot.hooks.sessionManager;
  /** What the server's sweep does every 30 s, then waits for the surveys it sent. */
  const sweep = async () => {
    const found = await manager.cleanupExpired();
    await bot.hooks.flush();
    return found;
  };
  const surveysTo = (to: string) => sent.filter((message) => message.to === to && SURVEY.test(message.text));
  return { clock, sent, failures, say, sweep, surveysTo, manager, bot };
}

describe("the survey at the end of a conversation", () => {
  it("goes out once through the send path when the conversation goes quiet, and a rating is thanked", async () => {
    const { clock, say, sweep, surveysTo, sent } = setup();
    await say("5511999999999", "oi");
    clock.advance(20);
    await say("5511999999999", "my bill is wrong");
    clock.advance(60);
    expect(await sweep()).toBe(0); // still live: no survey yet
    expect(surveysTo("5511999999999")).toEqual([]);

    clock.advance(61); // 121 s after the last message
    expect(await sweep()).toBe(1);
    expect(surveysTo("5511999999999")).toEqual([
      {
        to: "5511999999999",
        text: "Thanks for talking with us (2 messages)! How did we do? Reply with a number from 1 (poor) to 5 (great).",
      },
    ]);
    clock.advance(30);
    expect(await sweep()).toBe(0); // each end is delivered once

    const rating = await say("5511999999999", "5");
    expect(rating.status).toBe(200);
    expect(sent.at(-1)?.text).toBe("Thanks for rating us! Write anytime you need help.");
    clock.advance(200);
    await sweep();
    expect(surveysTo("5511999999999")).toHaveLength(1); // the rating's one-message conversation is not surveyed
  });

  it("goes out when the user comes back before any sweep, and never twice", async () => {
    const { clock, say, sweep, surveysTo, sent } = setup();
    await say("5521988888888", "oi");
    await say("5521988888888", "the app shows an error");
    clock.advance(300);
    const back = await say("5521988888888", "hello again");
    expect(back.status).toBe(200);
    await sweep();
    expect(surveysTo("5521988888888")).toHaveLength(1);
    expect(sent.at(-1)?.text).not.toMatch(SURVEY); // the reply to "hello again" was sent too
    expect(sent.filter((message) => message.to === "5521988888888")).toHaveLength(4);
  });

  it("is not sent for one-message conversations, nor to a user who asked to be forgotten", async () => {
    const { clock, say, sweep, sent, manager } = setup();
    await say("5531977777777", "oi");
    await say("5541966666666", "oi");
    await say("5541966666666", "refund please");
    expect(await manager.forgetUser("5541966666666")).toBe(1);
    clock.advance(121);
    await sweep();
    expect(sent.filter((message) => SURVEY.test(message.text))).toEqual([]);
  });

  it("a failing send never fails a message: the failure goes to onError (operation onSessionEnd)", async () => {
    const { clock, say, sweep, failures, sent } = setup({ failSurveys: true });
    await say("5511999999999", "oi");
    await say("5511999999999", "my bill is wrong");
    clock.advance(121);
    const back = await say("5511999999999", "are you there?");
    await sweep();
    expect(back).toMatchObject({ status: 200, result: { status: "answered" } });
    expect(sent.at(-1)?.to).toBe("5511999999999");
    expect(failures).toEqual([
      {
        error: expect.objectContaining({ message: "Graph API down" }),
        context: {
          operation: "onSessionEnd",
          userId: "5511999999999",
          sessionId: "whatsapp-5511999999999-20250107-120000",
        },
      },
    ]);
  });
});

describe("the survey in the offline demo (WHATSAPP_DEMO=1)", () => {
  it("is printed like every reply, after the server's cleanup finds the quiet conversation", async () => {
    const clock = createFakeClock();
    const { app, cleanupExpired, close } = appFromEnvironment({ WHATSAPP_DEMO: "1" }, { now: clock.now });
    const log = console.log;
    const printed: string[] = [];
    console.log = (line: string) => printed.push(line);
    try {
      for (const [id, text] of [
        ["wamid.d1", "oi"],
        ["wamid.d2", "pix please"],
      ]) {
        const init = await signedDelivery(
          notification([{ id: id as string, from: "5511999999999", text: text as string }]),
          DEMO_SECRETS.appSecret,
        );
        expect((await app.request("/webhook", init)).status).toBe(200);
      }
      clock.advance(121);
      expect(await cleanupExpired()).toBe(1);
      await close();
    } finally {
      console.log = log;
    }
    expect(printed.at(-1)).toBe(
      "  -> 5511999999999: Thanks for talking with us (2 messages)! How did we do? Reply with a number from 1 (poor) to 5 (great).",
    );
  });
});
