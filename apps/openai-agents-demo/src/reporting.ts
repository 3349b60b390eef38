// The demo's reporting, offline: it starts a record receiver and an OTLP receiver on loopback and
// points the telemetry at them, then tells what arrived.
import { type ErrorContext, globalSessionId, type RunRecord, SessionError } from "@threadline/session-core";
import { OtlpReceiver, RecordReceiver } from "./receivers.js";
import type { DemoReporting } from "./story.js";
import { createTelemetry, type TelemetryOptions } from "./telemetry.js";

export interface LocalReporting extends DemoReporting {
  records: RecordReceiver;
  traces: OtlpReceiver;
  /** Records the sink reported as dropped (`RECORDS_DROPPED`, with the records). */
  dropped: RunRecord[];
  /** Resolves once the sink has reported a drop (at once if it has already). */
  whenDropped(): Promise<void>;
  /** Other failures reported to `onError`. */
  failures: { error: Error; context: ErrorContext }[];
  /** Shuts the telemetry down (flushing it), then stops both receivers. */
  stop(): Promise<void>;
}

/** Starts both receivers and telemetry that sends to them. */
export async function startLocalReporting(sink: TelemetryOptions["sink"] = {}): Promise<LocalReporting> {
  const records = await new RecordReceiver().start();
  const traces = await new OtlpReceiver().start();
  const dropped: RunRecord[] = [];
  const failures: { error: Error; context: ErrorContext }[] = [];
  const dropWaiters: (() => void)[] = [];
  const telemetry = createTelemetry({
    recordsUrl: records.url,
    recordsToken: "demo-token",
    tracesUrl: traces.url,
    sink,
    onError: (error, context) => {
      if (SessionError.isInstance(error) && error.code === "RECORDS_DROPPED") {
        dropped.push(...(context.records ?? []));
        for (const resolve of dropWaiters.splice(0)) resolve();
      } else failures.push({ error, context });
    },
  });
  return {
    telemetry,
    records,
    traces,
    dropped,
    failures,
    whenDropped: () =>
      dropped.length > 0 ? Promise.resolve() : new Promise<void>((resolve) => dropWaiters.push(resolve)),
    summary: () => summary(records, traces, dropped),
    async stop() {
      await telemetry.shutdown();
      await records.stop();
      await traces.stop();
    },
  };
}

function summary(records: RecordReceiver, traces: OtlpReceiver, dropped: RunRecord[]): string[] {
  const received = records.records();
  const spans = traces.spans;
  const withSession = spans.filter((span) => span.attributes["session.id"] && span.attributes["user.id"]);
  const sessions = new Map<string, { traces: Set<string>; spans: number }>();
  for (const span of withSession) {
    const key = String(span.attributes["session.id"]);
    const entry = sessions.get(key) ?? { traces: new Set<string>(), spans: 0 };
    entry.traces.add(span.traceId);
    entry.spans++;
    sessions.set(key, entry);
  }
  const lines = [
    `records -> ${records.url}: ${count(received.length, "record")} in ${count(records.batches.size, "batch")} (${count(records.duplicates, "duplicate")}, ${dropped.length} reported dropped)`,
    `spans   -> ${traces.url}: ${count(spans.length, "span")}, ${withSession.length} with session.id and user.id`,
  ];
  for (const [key, entry] of sessions) {
    const runs = received.filter(
      (record) => record.sessionId !== null && globalSessionId({ ...record, sessionId: record.sessionId }) === key,
    );
    lines.push(
      `  ${key}: ${count(runs.length, "record")}, ${count(entry.traces.size, "trace")}, ${count(entry.spans, "span")}`,
    );
  }
  return lines;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : noun.endsWith("h") ? "es" : "s"}`;
}
