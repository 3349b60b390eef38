import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionError } from "../errors.js";
import type { RunRecord } from "../run-record.js";
import { RecordDeliveryError } from "./delivery-error.js";
import { type HttpFetch, httpRecordSink } from "./http-record-sink.js";
import { createRecordSink } from "./record-sink.js";
import { TestReceiver } from "./test-receiver.js";
import { dropCollector, runRecords } from "./test-records.js";

let receiver: TestReceiver;
beforeEach(async () => {
  receiver = await TestReceiver.start();
  // The first fetch of a process loads Node's HTTP client, which can take longer than the 50 ms
  // the tests give a request; load it before the clock matters.
  await (await fetch(receiver.url)).text();
});
afterEach(async () => {
  await receiver.stop();
});

const ids = (records: readonly RunRecord[]) => records.map((record) => record.runId);
const sorted = (values: string[]) => [...values].sort();

/** Retries at once (minDelay 0), requests cut after 100 ms: no test waits on real time for long. */
function sinkTo(url: string, options: Partial<Parameters<typeof createRecordSink>[0]> = {}) {
  const collector = dropCollector();
  const sink = createRecordSink({
    deliver: httpRecordSink({ url, token: "secret", timeout: 0.1 }),
    batchSize: 10,
    flushInterval: 60,
    minDelay: 0,
    maxDelay: 0.005,
    maxAttempts: 6,
    onError: collector.onError,
    ...options,
  });
  return { sink, collector };
}

describe("httpRecordSink against a real receiver", () => {
  it("every record arrives exactly once through 500s, a 429 with Retry-After, a stall and recovery", async () => {
    receiver.script({ status: 500 }, { status: 503 }, { status: 429, retryAfter: "0" }, "stall", { status: 502 });
    // maxAttempts leaves room for an answer slowed past the timeout on a loaded machine.
    const { sink, collector } = sinkTo(receiver.url, { maxAttempts: 10 });
    const records = runRecords(0, 95);
    for (const record of records) sink.add(record);
    await sink.flush();

    expect(collector.drops).toEqual([]);
    // Stored once each, in order, although the stalled batch reached the receiver twice.
    expect(receiver.storedRunIds()).toEqual(ids(records));
    expect(receiver.duplicates).toBeGreaterThanOrEqual(1);
    expect(receiver.requests.length).toBeGreaterThanOrEqual(10 + 5);
    // Every attempt of a batch carries the batch's id; attempts count up. (They may arrive out of
    // order: under load an attempt cut at the timeout can reach the receiver after the next one.)
    const first = receiver.requests.filter((request) => request.batchId === receiver.requests[0]?.batchId);
    // An attempt cut before it was sent never arrives at all.
    const attempts = first.map((request) => request.attempt);
    expect(new Set(attempts).size).toBe(attempts.length);
    expect(attempts.length).toBeGreaterThanOrEqual(5);
    const headers = receiver.requests[0]?.headers;
    expect(headers?.authorization).toBe("Bearer secret");
    expect(headers?.["content-type"]).toBe("application/json");
    await sink.shutdown();
  });

  it("a 400 drops its batch at once, reported with exactly its records; the rest arrives", async () => {
    receiver.script("ok", { status: 400 });
    const { sink, collector } = sinkTo(receiver.url);
    const records = runRecords(0, 30);
    for (const record of records) sink.add(record);
    await sink.flush();

    const refused = receiver.requests[1]?.batchId;
    expect(receiver.requests.filter((request) => request.batchId === refused)).toHaveLength(1); // never retried
    expect(collector.drops).toHaveLength(1);
    expect(collector.drops[0]?.runIds).toEqual(ids(records.slice(10, 20)));
    const cause = collector.drops[0]?.error.cause;
    expect(cause instanceof RecordDeliveryError && [cause.status, cause.retryable]).toEqual([400, false]);
    expect(receiver.storedRunIds()).toEqual(ids([...records.slice(0, 10), ...records.slice(20)]));
  });

  it("classifies answers: 408, 429, 5xx transient (with Retry-After); other 4xx permanent", async () => {
    const deliver = httpRecordSink({ url: receiver.url, timeout: 1 });
    const attempt = async () => {
      try {
        await deliver(runRecords(0, 1), { batchId: "b", attempt: 1, signal: new AbortController().signal });
        return "delivered";
      } catch (error) {
        if (!(error instanceof RecordDeliveryError)) throw error;
        return [error.status, error.retryable, error.retryAfter, error.code];
      }
    };
    receiver.script(
      { status: 429, retryAfter: "7" },
      { status: 408 },
      { status: 500 },
      { status: 404 },
      { status: 401 },
      { status: 422 },
    );
    const results = [];
    for (let index = 0; index < 7; index++) results.push(await attempt());
    expect(results).toEqual([
      [429, true, 7, "DELIVERY_FAILED"],
      [408, true, undefined, "DELIVERY_FAILED"],
      [500, true, undefined, "DELIVERY_FAILED"],
      [404, false, undefined, "DELIVERY_FAILED"],
      [401, false, undefined, "DELIVERY_FAILED"],
      [422, false, undefined, "DELIVERY_FAILED"],
      "delivered",
    ]);
  });

  it("waits at least Retry-After before the next attempt (cut to maxDelay)", async () => {
    receiver.script({ status: 429, retryAfter: "3600" });
    // Timed on the client: from the 429's arrival to the next request.
    const answered: number[] = [];
    const sent: number[] = [];
    const timedFetch: HttpFetch = async (url, init) => {
      sent.push(performance.now());
      const response = await fetch(url, init);
      answered.push(performance.now());
      return response;
    };
    const timed = createRecordSink({
      deliver: httpRecordSink({ url: receiver.url, timeout: 1, fetch: timedFetch }),
      minDelay: 0,
      maxDelay: 0.06,
      flushInterval: 0,
    });
    for (const record of runRecords(0, 1)) timed.add(record);
    await timed.shutdown();
    const [refusedAt] = answered;
    const [, retriedAt] = sent;
    if (refusedAt === undefined || retriedAt === undefined) throw new Error("expected two requests");
    // minDelay is 0, so without Retry-After the retry would follow at once.
    expect(retriedAt - refusedAt).toBeGreaterThanOrEqual(59);
    expect(retriedAt - refusedAt).toBeLessThan(1000);
  });

  it("a receiver that never answers cannot hold the sink: each request is cut at timeout", async () => {
    receiver.script("stall", "stall");
    const { sink, collector } = sinkTo(receiver.url, { maxAttempts: 2 });
    for (const record of runRecords(0, 10)) sink.add(record);
    const started = performance.now();
    await sink.flush();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(collector.droppedRunIds()).toEqual(ids(runRecords(0, 10)));
    expect(collector.drops[0]?.error.cause).toMatchObject({ message: expect.stringMatching(/no answer within 0.1 s/) });
    // Reported dropped, yet the receiver has it once: the batch id tells a reconciler which.
    expect(collector.drops[0]?.error.message).toContain(receiver.requests[0]?.batchId);
    expect(receiver.stored.size).toBe(1);
  });

  it("while the receiver is down memory stays bounded, drops are reported, and the rest arrives after it is back", async () => {
    await receiver.stop();
    const { sink, collector } = sinkTo(receiver.url, { maxBuffer: 30, maxAttempts: 1_000_000, maxDelay: 0.002 });
    const records = runRecords(0, 300);
    let largest = 0;
    for (const [index, record] of records.entries()) {
      sink.add(record);
      largest = Math.max(largest, sink.size);
      if (index % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 1)); // traffic over time
    }
    expect(largest).toBe(30);
    await receiver.restart();
    await sink.flush();
    await sink.shutdown();

    const dropped = collector.droppedRunIds();
    expect(collector.drops.every((drop) => drop.operation === "buffer")).toBe(true);
    expect(dropped).toHaveLength(270);
    expect(sorted([...receiver.storedRunIds(), ...dropped])).toEqual(sorted(ids(records)));
    expect(receiver.storedRunIds().slice(-20)).toEqual(ids(records.slice(-20))); // the newest were kept
  });

  it("a receiver killed mid-stream loses nothing silently: each record is stored once or reported", async () => {
    const { sink, collector } = sinkTo(receiver.url, { maxBuffer: 200, maxAttempts: 4, flushInterval: 0.005 });
    const records = runRecords(0, 400);
    for (const [index, record] of records.entries()) {
      sink.add(record);
      if (index === 150) await receiver.stop();
      if (index === 300) {
        // Down long enough for a batch to use up its attempts, so the report path is exercised.
        while (collector.drops.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        await receiver.restart();
      }
      if (index % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await sink.shutdown();

    const stored = receiver.storedRunIds();
    const dropped = collector.droppedRunIds();
    expect(new Set(stored).size).toBe(stored.length); // no record stored twice
    const accounted = new Set([...stored, ...dropped]);
    expect(ids(records).filter((id) => !accounted.has(id))).toEqual([]); // none vanished
    expect(stored.length).toBeGreaterThan(0);
    expect(dropped.length).toBeGreaterThan(0);
    expect(collector.drops.every((drop) => drop.code === "RECORDS_DROPPED")).toBe(true);
  });

  it("sends the token in a custom header and extra headers", async () => {
    const { sink } = sinkTo(receiver.url);
    const custom = createRecordSink({
      deliver: httpRecordSink({
        url: receiver.url,
        token: "t0k",
        tokenHeader: "X-Api-Key",
        headers: { "X-Tenant": "acme" },
      }),
      flushInterval: 0,
    });
    for (const record of runRecords(0, 1)) custom.add(record);
    await custom.shutdown();
    await sink.shutdown();
    expect(receiver.requests[0]?.headers["x-api-key"]).toBe("t0k");
    expect(receiver.requests[0]?.headers["x-tenant"]).toBe("acme");
    expect(receiver.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("refuses bad options with INVALID_OPTION", () => {
    for (const options of [
      { url: "not a url" },
      { url: "ftp://example.com" },
      { url: "https://example.com", timeout: 0 },
      { url: "https://example.com", token: 42 },
      { url: "https://example.com", fetch: "fetch" },
      { url: "https://example.com", headers: { "x-a": 1 } },
    ]) {
      let caught: unknown;
      try {
        httpRecordSink(options as never);
      } catch (error) {
        caught = error;
      }
      expect(SessionError.isInstance(caught) && caught.code).toBe("INVALID_OPTION");
    }
  });
});
