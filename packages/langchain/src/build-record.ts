import type { RunRecord } from "@threadline/session-core";
import type { RootRun } from "./run-tracker.js";

/** How a root run ended: its output or its error message, and a streamed run's input, which arrives only now. */
export interface RunEnding {
  output?: unknown;
  error?: string;
  input?: unknown;
}

/** The core's one record type for a LangChain root run. `sessionId` is filled in once the session is known. */
export function buildRunRecord(run: RootRun, userId: string, ending: RunEnding, endedAt: number): RunRecord {
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
    input: ending.input ?? run.input,
    startedAt: run.startedAt,
    endedAt,
    tags: run.tags,
    metadata: run.metadata,
  };
  if (run.name !== undefined) record.name = run.name;
  if (ending.error !== undefined) record.error = ending.error;
  else record.output = ending.output;
  if (run.usage !== undefined) record.usage = run.usage;
  return record;
}
