import type { Model, ModelRequest } from "@openai/agents";
import { describe, expect, it } from "vitest";
import { type AgentReply, createWhatsAppApp, type DeliveryResult, RespondTimeoutError } from "../src/app.js";
import { createBot } from "../src/bot.js";
import { memoryDeduplicator } from "../src/deduplicator.js";
import { APP_SECRET, notification, signedDelivery, VERIFY_TOKEN } from "./notification.js";

// A model that never answers must not block its sender's queue forever. The agent call is cut at
// `respondTimeoutMs` (a few ms here; the hung call never settles, so the outcome does not depend on
// how fast the machine is), the message is released and the delivery answered 503.

/** A model whose calls never settle, even when aborted: the worst case. Records each call's signal. */
function silentModel(): Model & { signals: Array<AbortSignal | undefined> } {
  const signals: Array<AbortSignal | undefined> = [];
  return {
    signals,
    getResponse(request: ModelRequest) {
      signals.push(request.signal);
      return new Promise(() => {});
    },
    async *getStreamedResponse(request: ModelRequest) {
      signals.push(request.signal);
      await new Promise(() => {});
    },
  };
}

async function deliver(app: ReturnType<typeof createWhatsAppApp>, init: RequestInit) {
  const response = await app.request("/webhook", init);
  return { status: response.status, results: ((await response.json()) as { results: DeliveryResult[] }).results };
}

describe("the agent call is bounded", () => {
  it("answers 503 when the model never answers, aborts the run, and frees the sender's queue", async () => {
    const model = silentModel();
    const silentBot = createBot({ model });
    let silent = true;
    const sent: string[] = [];
    const errors: unknown[] = [];
    const app = createWhatsAppApp({
      verifyToken: VERIFY_TOKEN,
      appSecret: APP_SECRET,
      respond: (message, options) =>
        silent
          ? silentBot.respond(message, options)
          : Promise.resolve({ text: `echo ${message.text}`, sessionId: "s" }),
      send: async (_to, text) => {
        sent.push(text);
      },
      respondTimeoutMs: 20,
      onError: (error) => errors.push(error),
    });
    const init = await signedDelivery(notification([{ id: "wamid.h1", from: "5511999999999", text: "oi" }]));
    const timedOut = await deliver(app, init);
    expect(timedOut).toMatchObject({ status: 503, results: [{ messageId: "wamid.h1", status: "failed" }] });
    expect(errors).toEqual([expect.any(RespondTimeoutError)]);
    expect(errors[0]).toMatchObject({ messageId: "wamid.h1", timeoutMs: 20 });
    expect(model.signals).toHaveLength(1);
    expect(model.signals[0]?.aborted).toBe(true); // the run was told to stop, not just abandoned
    // The same sender's next message is processed on this instance: the queue is not stuck.
    silent = false;
    const next = await signedDelivery(notification([{ id: "wamid.h2", from: "5511999999999", text: "still there?" }]));
    expect(await deliver(app, next)).toMatchObject({ status: 200, results: [{ status: "answered" }] });
    // The timed-out message was released: WhatsApp's redelivery is processed, not dropped.
    expect(await deliver(app, init)).toMatchObject({ status: 200, results: [{ status: "answered" }] });
    expect(sent).toEqual(["echo still there?", "echo oi"]);
  });

  it("ignores a reply that arrives after the timeout: nothing is sent, the redelivery answers", async () => {
    let late: (reply: AgentReply) => void = () => {};
    let calls = 0;
    const sent: string[] = [];
    const app = createWhatsAppApp({
      verifyToken: VERIFY_TOKEN,
      appSecret: APP_SECRET,
      respond: (message) => {
        calls++;
        if (calls > 1) return Promise.resolve({ text: `echo ${message.text}`, sessionId: "s" });
        return new Promise<AgentReply>((resolve) => {
          late = resolve;
        });
      },
      send: async (_to, text) => {
        sent.push(text);
      },
      respondTimeoutMs: 20,
      onError: () => {},
    });
    const init = await signedDelivery(notification([{ id: "wamid.h3", from: "5511999999999", text: "oi" }]));
    expect((await deliver(app, init)).status).toBe(503);
    late({ text: "too late", sessionId: "s" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([]);
    expect(await deliver(app, init)).toMatchObject({ status: 200, results: [{ status: "answered" }] });
    expect(sent).toEqual(["echo oi"]);
  });

  it("refuses a timeout that does not fit in the claim's lease, and defaults below it", () => {
    const options = {
      verifyToken: VERIFY_TOKEN,
      appSecret: APP_SECRET,
      respond: async () => ({ text: "", sessionId: "" }),
      send: async () => {},
    };
    expect(() => createWhatsAppApp({ ...options, deduplicator: memoryDeduplicator({ lease: 30 }) })).toThrow(
      /respondTimeoutMs \(60000 ms\) \+ sendTimeoutMs \(15000 ms\) must be shorter than the deduplicator's lease \(30 s\)/,
    );
    expect(() => createWhatsAppApp({ ...options, respondTimeoutMs: 300_000 })).toThrow(/shorter than/);
    expect(() => createWhatsAppApp({ ...options, respondTimeoutMs: 0 })).toThrow(/positive number of milliseconds/);
    expect(() => createWhatsAppApp({ ...options, respondTimeoutMs: Number.NaN })).toThrow(/positive/);
    expect(() => createWhatsAppApp(options)).not.toThrow();
  });
});
