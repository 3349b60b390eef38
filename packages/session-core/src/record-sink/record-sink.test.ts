import { describe, expect, it } from "vitest";
import { SessionError } from "../errors.js";
import type { RunRecord } from "../run-record.js";
import { backoffDelay } from "./backoff.js";
import { RecordDeliveryError } from "./delivery-error.js";
import type { DeliveryContext } from "./options.js";
import { createRecordSink } from "./record-sink.js";
import { parseRetryAfter } from "./retry-after.js";
import { dropCollector, runRecords } from "./test-records.js";

/** A deliver function that records its calls and answers with `answer` (default: success). */
function recordingDeliver(answer: (call: number, context: DeliveryContext) => Promise<void> = async () => {}) {
  const calls: Array<{ runIds: string[]; context: DeliveryContext }> = [];
  const delivered: string[] = [];
  return {
    calls,
    delivered,
    deliver: async (records: readonly RunRecord[], context: DeliveryContext) => {
      calls.push({ runIds: records.map((record) => record.runId), context });
      await answer(calls.length, context);
      delivered.push(...records.map((record) => record.runId));
    },
  };
}

const fast = { minDelay: 0, maxDelay: 0, flushInterval: 60 } as const;

describe("createRecordSink", () => {
  it("delivers full batches at once and in order; flush delivers the partial one", async () => {
    const target = recordingDeliver();
    const sink = createRecordSink({ deliver: target.deliver, batchSize: 4, ...fast });
    for (const record of runRecords(0, 10)) sink.add(record);
    expect(target.calls).toHaveLength(0); // add never delivers on the caller's stack
    await sink.flush();
    expect(target.calls.map((call) => call.runIds.length)).toEqual([4, 4, 2]);
    expect(target.delivered).toEqual(runRecords(0, 10).map((record) => record.runId));
    expect(sink.size).toBe(0);
    await sink.shutdown();
  });

  it("delivers a partial batch after flushInterval", async () => {
    let arrived: (runIds: string[]) => void = () => {};
    const delivered = new Promise<string[]>((resolve) => {
      arrived = resolve;
    });
    const sink = createRecordSink({
      deliver: async (records) => arrived(records.map((record) => record.runId)),
      flushInterval: 0.01,
    });
    for (const record of runRecords(0, 3)) sink.add(record);
    expect(await delivered).toEqual(["run-0", "run-1", "run-2"]);
    await sink.shutdown();
  });

  it("retries a transient failure with the same batch id and the next attempt number", async () => {
    const target = recordingDeliver(async (call) => {
      if (call <= 2) throw new Error("connection reset");
    });
    const collector = dropCollector();
    const sink = createRecordSink({ deliver: target.deliver, batchSize: 3, ...fast, onError: collector.onError });
    for (const record of runRecords(0, 3)) sink.add(record);
    await sink.flush();
    expect(target.calls.map((call) => call.context.attempt)).toEqual([1, 2, 3]);
    expect(new Set(target.calls.map((call) => call.context.batchId)).size).toBe(1);
    expect(target.delivered).toEqual(["run-0", "run-1", "run-2"]);
    expect(collector.drops).toEqual([]);
  });

  it("drops a batch that failed permanently after one attempt, reported with its records and cause", async () => {
    const refusal = new RecordDeliveryError({ message: "bad request", status: 400, retryable: false });
    const target = recordingDeliver(async (call) => {
      if (call === 1) throw refusal;
    });
    const collector = dropCollector();
    const sink = createRecordSink({ deliver: target.deliver, batchSize: 2, ...fast, onError: collector.onError });
    for (const record of runRecords(0, 4)) sink.add(record);
    await sink.flush();
    expect(target.calls).toHaveLength(2); // the refused batch once, the next batch once
    expect(collector.drops).toHaveLength(1);
    const [drop] = collector.drops;
    expect(drop?.code).toBe("RECORDS_DROPPED");
    expect(drop?.operation).toBe("deliver");
    expect(drop?.runIds).toEqual(["run-0", "run-1"]);
    expect(drop?.error.cause).toBe(refusal);
    expect(target.delivered).toEqual(["run-2", "run-3"]);
  });

  it("drops a batch after maxAttempts, reported with the last error", async () => {
    const target = recordingDeliver(async (call) => {
      throw new Error(`down ${call}`);
    });
    const collector = dropCollector();
    const sink = createRecordSink({ deliver: target.deliver, maxAttempts: 3, ...fast, onError: collector.onError });
    for (const record of runRecords(0, 2)) sink.add(record);
    await sink.flush();
    expect(target.calls).toHaveLength(3);
    expect(collector.droppedRunIds()).toEqual(["run-0", "run-1"]);
    expect(collector.drops[0]?.error.cause).toEqual(new Error("down 3"));
    expect(collector.drops[0]?.error.message).toMatch(/failed 3 times \(maxAttempts\)/);
  });

  it("abandons a deliver that never settles after deliveryTimeout, aborting its signal", async () => {
    const signals: AbortSignal[] = [];
    const collector = dropCollector();
    const sink = createRecordSink({
      deliver: (_records, context) => {
        signals.push(context.signal);
        return new Promise<void>(() => {}); // ignores its signal and never settles
      },
      deliveryTimeout: 0.02,
      maxAttempts: 2,
      ...fast,
      onError: collector.onError,
    });
    for (const record of runRecords(0, 2)) sink.add(record);
    const started = performance.now();
    await sink.flush();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(signals).toHaveLength(2);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    expect(collector.droppedRunIds()).toEqual(["run-0", "run-1"]);
    expect(collector.drops[0]?.error.cause).toBeInstanceOf(RecordDeliveryError);
  });

  it("holds at most maxBuffer records; the oldest waiting ones make room and are reported", async () => {
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const target = recordingDeliver(() => gate);
    const collector = dropCollector();
    const sink = createRecordSink({
      deliver: target.deliver,
      batchSize: 5,
      maxBuffer: 20,
      ...fast,
      onError: collector.onError,
    });
    const records = runRecords(0, 100);
    let largest = 0;
    for (const record of records) {
      sink.add(record);
      largest = Math.max(largest, sink.size);
      await Promise.resolve(); // let the first batch start
    }
    expect(largest).toBe(20);
    await Promise.resolve();
    expect(collector.drops.every((drop) => drop.operation === "buffer" && drop.code === "RECORDS_DROPPED")).toBe(true);
    open();
    await sink.flush();
    const delivered = target.delivered;
    const dropped = collector.droppedRunIds();
    // Every record exactly once: delivered or reported, never both, never neither.
    expect([...delivered, ...dropped].sort()).toEqual(records.map((record) => record.runId).sort());
    expect(delivered).toHaveLength(20);
    expect(delivered.slice(0, 5)).toEqual(["run-0", "run-1", "run-2", "run-3", "run-4"]); // the batch in flight
    expect(delivered.slice(5)).toEqual(records.slice(85).map((record) => record.runId)); // the newest
  });

  it("reports a full buffer's drops together: once per task, at most batchSize per report, all before flush resolves", async () => {
    const collector = dropCollector();
    const sink = createRecordSink({
      deliver: () => new Promise<void>(() => {}), // a stalled backend
      batchSize: 4,
      maxBuffer: 8,
      deliveryTimeout: 60,
      flushTimeout: 0.05,
      onError: collector.onError,
    });
    const records = runRecords(0, 30);
    const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
    for (const record of records.slice(0, 8)) sink.add(record);
    await nextTask(); // the first batch is in flight, 4 wait
    expect(sink.size).toBe(8);
    // Runs awaiting only promises stay in one task: their drops wait for one report.
    for (const record of records.slice(8, 11)) {
      sink.add(record);
      await Promise.resolve();
    }
    expect(collector.drops).toEqual([]);
    await nextTask();
    expect(collector.drops.map((drop) => drop.runIds)).toEqual([["run-4", "run-5", "run-6"]]);
    // A burst: a report as soon as batchSize drops wait, so they stay bounded.
    for (const record of records.slice(11, 21)) sink.add(record);
    expect(collector.drops.map((drop) => drop.runIds.length)).toEqual([3, 4, 4]);
    expect(sink.size).toBe(8);
    // flush() reports the rest before it resolves, without waiting for the task to end.
    await sink.flush();
    expect(collector.drops.map((drop) => drop.runIds.length)).toEqual([3, 4, 4, 2]);
    expect(collector.drops.every((drop) => drop.operation === "buffer" && drop.code === "RECORDS_DROPPED")).toBe(true);
    await sink.shutdown();
    // Every record added is reported exactly once (the stalled ones by shutdown).
    expect(collector.droppedRunIds().sort()).toEqual(
      records
        .slice(0, 21)
        .map((record) => record.runId)
        .sort(),
    );
  });

  it("flush ends at flushTimeout; shutdown then reports what is still undelivered", async () => {
    const collector = dropCollector();
    const sink = createRecordSink({
      deliver: (_records, context) =>
        new Promise<void>((_, reject) => context.signal.addEventListener("abort", () => reject(new Error("aborted")))),
      flushTimeout: 0.03,
      deliveryTimeout: 60,
      batchSize: 2,
      ...fast,
      onError: collector.onError,
    });
    for (const record of runRecords(0, 5)) sink.add(record);
    const started = performance.now();
    await sink.flush();
    expect(sink.size).toBe(5); // still held, still being tried
    await sink.shutdown();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(sink.size).toBe(0);
    expect(collector.droppedRunIds().sort()).toEqual(runRecords(0, 5).map((record) => record.runId));
    expect(collector.drops.every((drop) => drop.operation === "shutdown")).toBe(true);
  });

  it("shutdown drains; a record added afterwards is reported, never delivered", async () => {
    const target = recordingDeliver();
    const collector = dropCollector();
    const sink = createRecordSink({ deliver: target.deliver, ...fast, onError: collector.onError });
    for (const record of runRecords(0, 3)) sink.add(record);
    await sink.shutdown();
    expect(target.delivered).toEqual(["run-0", "run-1", "run-2"]);
    const [late] = runRecords(3, 1);
    if (late === undefined) throw new Error("no record");
    expect(() => sink.add(late)).not.toThrow();
    await sink.flush();
    await Promise.resolve();
    expect(collector.drops.map((drop) => [drop.operation, drop.runIds])).toEqual([["shutdown", ["run-3"]]]);
    expect(target.calls).toHaveLength(1);
    await sink.shutdown(); // idempotent
  });

  it("can be passed as a bare function (onRecord: sink.add)", async () => {
    const target = recordingDeliver();
    const sink = createRecordSink({ deliver: target.deliver, ...fast });
    const onRecord = sink.add;
    for (const record of runRecords(0, 2)) onRecord(record);
    await sink.flush();
    expect(target.delivered).toEqual(["run-0", "run-1"]);
  });

  it("a deliver that throws synchronously is a transient failure, not a throw from add", async () => {
    let calls = 0;
    const sink = createRecordSink({
      deliver: () => {
        calls++;
        if (calls === 1) throw new Error("sync");
        return Promise.resolve();
      },
      ...fast,
    });
    for (const record of runRecords(0, 2)) sink.add(record);
    await sink.flush();
    expect(calls).toBe(2);
  });

  it("refuses bad options with INVALID_OPTION", () => {
    const deliver = async () => {};
    const bad: Array<Record<string, unknown>> = [
      { deliver: "https://example.com" },
      { deliver, batchSize: 0 },
      { deliver, batchSize: 1.5 },
      { deliver, batchSize: 20, maxBuffer: 10 },
      { deliver, flushInterval: -1 },
      { deliver, maxAttempts: 0 },
      { deliver, minDelay: 2, maxDelay: 1 },
      { deliver, deliveryTimeout: 0 },
      { deliver, flushTimeout: Number.POSITIVE_INFINITY },
      { deliver, onError: "log" },
    ];
    for (const options of bad) {
      let caught: unknown;
      try {
        createRecordSink(options as never);
      } catch (error) {
        caught = error;
      }
      expect(SessionError.isInstance(caught) && caught.code).toBe("INVALID_OPTION");
    }
  });
});

describe("backoffDelay", () => {
  const options = { minDelay: 0.5, maxDelay: 8 };
  it("draws uniformly below an exponential ceiling capped at maxDelay (full jitter)", () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, options, 0, () => 0.999999))).toEqual(
      [0.5, 1, 2, 4, 8, 8].map((ceiling) => expect.closeTo(ceiling, 4)),
    );
    expect(backoffDelay(3, options, 0, () => 0)).toBe(0);
    expect(backoffDelay(3, options, 0, () => 0.5)).toBe(1);
  });

  it("waits at least Retry-After, cut to maxDelay", () => {
    expect(backoffDelay(1, options, 3, () => 0)).toBe(3);
    expect(backoffDelay(1, options, 3600, () => 0)).toBe(8);
  });
});

describe("parseRetryAfter", () => {
  it("reads delay-seconds and HTTP dates", () => {
    const now = Date.parse("2025-01-07T12:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Tue, 07 Jan 2025 12:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Tue, 07 Jan 2025 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});
