import type { RunRecord } from "@threadline/session-core";
import { boundedText, boundedValue } from "@threadline/session-core/adapter-kit";
import type { RunSession } from "./run-sessions.js";
import type { RootRun } from "./run-tracker.js";

/** How a root run ended: its output or error, and a streamed run's input, which arrives only now. */
export interface RunEnding {
  output?: unknown;
  error?: unknown;
  input?: unknown;
}

/**
 * The core's one record type for a LangChain root run, with values cut to `maxValueLength`.
 * `sessionId` is filled in once the session is known.
 */
export function buildRunRecord(parts: {
  run: RootRun;
  /** The run's user (`run.userId`, known to be set). */
  userId: string;
  ending: RunEnding;
  endedAt: number;
  maxValueLength: number;
}): RunRecord {
  const { run, userId, ending, maxValueLength } = parts;
  const record: RunRecord = {
    version: 1,
    source: "langchain",
    runId: run.runId,
    namespace: run.namespace,
    userId,
    sessionId: null,
    agents: [],
    handoffs: [],
    toolCalls: [...run.toolCalls.values()],
    // Only a streamed run's input comes with its end; other runs' was cut at their start.
    input: run.defersInput && ending.input !== undefined ? boundedValue(ending.input, maxValueLength) : run.input,
    startedAt: run.startedAt,
    endedAt: parts.endedAt,
    tags: run.tags,
    metadata: run.metadata,
  };
  if (run.name !== undefined) record.name = run.name;
  if ("error" in ending) record.error = boundedText(messageOf(ending.error), maxValueLength);
  else record.output = boundedValue(ending.output, maxValueLength);
  if (run.usage !== undefined) record.usage = run.usage;
  if (run.models.length > 0) record.models = [...run.models];
  if (run.messages.length > 0) record.messages = [...run.messages];
  return record;
}

/** Fills in what is known once the run's session is: its id and the turn the run was. */
export function withSession(record: RunRecord, session: RunSession): void {
  record.sessionId = session.sessionId;
  if (typeof session.turns === "number") record.turn = session.turns;
}

/** An error's message, or the thrown value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
