// The app as deployed: run records through the record sink to an HTTP receiver, spans over OTLP/HTTP
// to a collector. The record receiver is killed while webhooks keep arriving and comes back on the
// same port; no record may vanish silently, and every span of a delivery names its session.
import { context } from "@opentelemetry/api";
import { type ErrorContext, globalSessionId, type RunRecord } from "@threadline/session-core";
import { createFakeClock } from "@threadline/session-core/fake-clock";
import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryResult } from "../src/app.js";
import { appFromEnvironment } from "../src/config.js";
import { type RecordReceiver, startRecordReceiver } from "../src/record-receiver.js";
import { APP_SECRET, notification, signedDelivery, VERIFY_TOKEN } from "./notification.js";
import { type ReceivedSpan, startOtlpReceiver } from "./otlp-receiver.js";

const SENDERS = ["5511999999999", "5521988888888", "5531977777777"];

interface Drop {
  error: Error;
  context: ErrorContext;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  context.disable(); // the context manager createTracing registered
});

/**
 * The app from its environment, pointed at a record receiver and an OTLP receiver this test starts.
 * The sink's retry timings are short so that an outage outlasts (or not) its attempts in
 * milliseconds; the test never sleeps on them: it awaits `flush()`/`close()`, which resolve when
 * every record was delivered or reported dropped.
 */
async function deployment(sink: { maxAttempts: number; minDelay: number; maxDelay: number }) {
  const receiver = await startRecordReceiver({ token: "records-token" });
  const otlp = await startOtlpReceiver();
  cleanups.push(
    () => otlp.stop(),
    () => receiver.stop(),
  );
  const drops: Drop[] = [];
  const clock = createFakeClock();
  const configured = appFromEnvironment(
    {
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
      THREADLINE_RECORDS_URL: receiver.url,
      THREADLINE_RECORDS_TOKEN: "records-token",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlp.url,
    },
    {
      now: clock.now,
      onError: (error, errorContext) => {
        if (errorContext.records === undefined) throw error; // anything but a drop is a bug here
        drops.push({ error, context: errorContext });
      },
      // flushInterval 0: each record leaves as soon as the sink is free, so deliveries are in flight
      // while the receiver dies; the batches form while one is in flight.
      recordSink: { batchSize: 3, flushInterval: 0, deliveryTimeout: 5, flushTimeout: 10, ...sink },
    },
  );
  const records = configured.records;
  if (records === undefined) throw new Error("THREADLINE_RECORDS_URL did not give a record sink");
  let sent = 0;
  const answers = new Map<string, { from: string; text: string; sessionId: string | undefined }>();
  /** One signed delivery of one message, round-robin over the senders; answered 200 whatever the receiver does. */
  async function message(): Promise<void> {
    const n = ++sent;
    const from = SENDERS[n % SENDERS.length] as string;
    const text = `message ${n}`;
    const response = await configured.app.request(
      "/webhook",
      await signedDelivery(notification([{ id: `wamid.${n}`, from, text }])),
    );
    const body = (await response.json()) as { results: DeliveryResult[] };
    expect(response.status).toBe(200); // the record backend's outage never reaches WhatsApp
    answers.set(`wamid.${n}`, { from, text, sessionId: body.results[0]?.sessionId });
  }
  return { receiver, otlp, drops, records, close: configured.close, message, answers };
}

/** Every record the app built arrived, or was reported dropped with the record; none twice at the receiver. */
function expectNoneLostSilently(receiver: RecordReceiver, drops: Drop[], texts: string[]): RunRecord[] {
  const stored = receiver.records();
  const dropped = drops.flatMap((drop) => drop.context.records ?? []);
  for (const drop of drops) {
    expect(drop.error).toMatchObject({ name: "SessionError", code: "RECORDS_DROPPED" });
    expect(["deliver", "shutdown", "buffer"]).toContain(drop.context.operation);
  }
  // One record per message: the input is the message text, so the truth does not come from the sink.
  const accounted = [...stored, ...dropped];
  expect(new Set(accounted.map((record) => record.input))).toEqual(new Set(texts));
  // The receiver dedupes retried batches by Idempotency-Key; a run id stored twice would be a duplicate that got through.
  expect(new Set(stored.map((record) => record.runId)).size).toBe(stored.length);
  return accounted;
}

/** Every span of every webhook delivery carries the session the message was answered in, and its user. */
function expectSessionOnEverySpan(spans: ReceivedSpan[], answers: Map<string, { from: string; sessionId?: string }>) {
  const byTrace = new Map<string, ReceivedSpan[]>(); // Map.groupBy needs Node 21
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
  expect(byTrace.size).toBe(answers.size); // one trace per delivery
  for (const trace of byTrace.values()) {
    expect(trace.map((span) => span.name).sort()).toEqual([
      "POST /webhook",
      "whatsapp.message",
      "whatsapp.respond",
      "whatsapp.send",
    ]);
    const messageId = trace.find((span) => span.name === "whatsapp.message")?.attributes["messaging.message.id"];
    const answer = answers.get(String(messageId));
    expect(answer?.sessionId).toBeDefined();
    const sessionKey = globalSessionId({
      namespace: "whatsapp",
      userId: answer?.from as string,
      sessionId: answer?.sessionId as string,
    });
    for (const span of trace) {
      expect(span.attributes, span.name).toMatchObject({
        "session.id": sessionKey,
        "user.id": answer?.from,
        "gen_ai.conversation.id": sessionKey,
        "threadline.namespace": "whatsapp",
      });
    }
  }
}

describe("run records and spans while the record receiver dies and comes back", () => {
  it("an outage longer than the retries: records from before and after arrive, those in between are reported dropped with the records", async () => {
    const app = await deployment({ maxAttempts: 3, minDelay: 0.005, maxDelay: 0.02 });
    for (let i = 0; i < 5; i++) await app.message();
    // Killed while the next webhooks arrive: the stop is not awaited before they start.
    const stopped = app.receiver.stop();
    for (let i = 0; i < 5; i++) await app.message();
    await stopped;
    // Everything added so far is delivered or reported dropped: with the port dark, each batch used its 3 attempts.
    await app.records.flush();
    const droppedWhileDown = app.drops.flatMap((drop) => drop.context.records ?? []).length;
    expect(droppedWhileDown).toBeGreaterThan(0);
    expect(app.drops.every((drop) => drop.context.operation === "deliver")).toBe(true);

    await app.receiver.restart(); // the same port: the sink's URL is unchanged
    for (let i = 0; i < 5; i++) await app.message();
    await app.close(); // hooks flushed, sink shut down (drained), spans exported

    const texts = Array.from({ length: 15 }, (_, index) => `message ${index + 1}`);
    const accounted = expectNoneLostSilently(app.receiver, app.drops, texts);
    // Before the kill and after the restart they arrived (the ones around the kill may have gone either way).
    const stored = new Set(app.receiver.records().map((record) => record.input));
    for (const text of ["message 1", "message 11", "message 12", "message 13", "message 14", "message 15"]) {
      expect(stored, text).toContain(text);
    }
    // Each record names its session, the same one its spans carry.
    for (const record of accounted) {
      const answer = [...app.answers.values()].find((candidate) => candidate.text === record.input);
      expect(record).toMatchObject({ namespace: "whatsapp", userId: answer?.from, sessionId: answer?.sessionId });
    }
    expectSessionOnEverySpan(app.otlp.spans, app.answers);
  });

  it("an outage shorter than the retries: every record arrives once, none is dropped", async () => {
    // Retries with full jitter can wait ~0 ms, so the budget is in attempts: 200 waits of up to
    // 50 ms are seconds on average, while the outage lasts four webhooks (a few ms).
    const app = await deployment({ maxAttempts: 200, minDelay: 0.01, maxDelay: 0.05 });
    for (let i = 0; i < 4; i++) await app.message();
    const stopped = app.receiver.stop();
    for (let i = 0; i < 4; i++) await app.message();
    await stopped;
    expect(app.records.size).toBeGreaterThan(0); // held for retry while the port was dark, not dropped
    await app.receiver.restart();
    for (let i = 0; i < 4; i++) await app.message();
    await app.close();

    const texts = Array.from({ length: 12 }, (_, index) => `message ${index + 1}`);
    expectNoneLostSilently(app.receiver, app.drops, texts);
    expect(app.drops).toEqual([]);
    expect(app.receiver.records().map((record) => record.input)).toHaveLength(12);
    expectSessionOnEverySpan(app.otlp.spans, app.answers);
  });
});
