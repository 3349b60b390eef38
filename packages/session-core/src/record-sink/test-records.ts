// Records and an onError collector for the sink's tests. Not exported.
import type { ErrorContext } from "../adapter-kit/error-sink.js";
import { SessionError } from "../errors.js";
import type { RunRecord } from "../run-record.js";

export function runRecord(index: number): RunRecord {
  return {
    version: 1,
    source: "test",
    runId: `run-${index}`,
    namespace: "support",
    userId: `user-${index % 7}`,
    sessionId: `support-user-${index % 7}-20250107-120000`,
    agents: [],
    handoffs: [],
    toolCalls: [],
    input: `message ${index}`,
    startedAt: 1_736_251_200_000 + index,
    endedAt: 1_736_251_200_000 + index + 1,
  };
}

export function runRecords(from: number, count: number): RunRecord[] {
  return Array.from({ length: count }, (_, offset) => runRecord(from + offset));
}

export interface Drop {
  error: Error;
  /** The `SessionError` code, or undefined for anything else (a bug). */
  code: string | undefined;
  operation: string;
  runIds: string[];
}

/** An `onError` that keeps every report; `droppedRunIds()` is what the sink gave up on. */
export function dropCollector(): {
  onError: (error: Error, context: ErrorContext) => void;
  drops: Drop[];
  droppedRunIds(): string[];
} {
  const drops: Drop[] = [];
  return {
    drops,
    onError(error, context) {
      const code = SessionError.isInstance(error) ? error.code : undefined;
      drops.push({
        error,
        code,
        operation: context.operation,
        runIds: (context.records ?? []).map((record) => record.runId),
      });
    },
    droppedRunIds: () => drops.flatMap((drop) => drop.runIds),
  };
}
