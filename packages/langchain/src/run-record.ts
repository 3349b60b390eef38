import type { LLMResult } from "@langchain/core/outputs";

/** Tokens an LLM reported for a run, summed over every model call in it. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** One tool the run executed, in the order the tools started. */
export interface ToolCallRecord {
  /** The tool run's id. */
  runId: string;
  /** The tool's name. */
  name: string;
  /** The tool's input as LangChain passes it to handlers (a string, JSON for structured input). */
  input: string;
  /** What the tool returned (often a `ToolMessage`); absent when it failed or has not finished. */
  output?: unknown;
  /** The error message when the tool failed. */
  error?: string;
  /** The model's tool call id, when the tool was called by a model. */
  toolCallId?: string;
}

/** What kind of run a record describes: the kind of the root run. */
export type RunKind = "chain" | "llm" | "tool" | "retriever";

/**
 * One record per root run: everything from the moment `invoke`/`stream` starts the outermost
 * run to the moment it ends, attributed to one user and one session.
 */
export interface RunRecord {
  /** The root run's id (the id LangSmith shows). */
  runId: string;
  /** The session the run belongs to; `null` when the store could not be reached (see `onError`). */
  sessionId: string | null;
  userId: string;
  namespace: string;
  /** The root run's name, e.g. `"RunnableSequence"` or `"LangGraph"`. */
  name: string | undefined;
  kind: RunKind;
  /** The root run's input as LangChain reports it to handlers (chains: an object, `{ input }` for plain values). */
  input: unknown;
  /** The root run's output as LangChain reports it; absent when the run failed. */
  output?: unknown;
  /** The error message when the root run failed. */
  error?: string;
  /** Tools executed anywhere inside the run. */
  toolCalls: ToolCallRecord[];
  /** Token usage summed over the run's model calls; absent when no model reported any. */
  tokenUsage?: TokenUsage;
  /** When the root run started and ended, in ms since epoch (the handler's `now`). */
  startedAt: number;
  endedAt: number;
  tags: string[];
  /** The root run's metadata (includes `session_id`, `thread_id`, `user_id` when set by `sessionConfig`). */
  metadata: Record<string, unknown>;
}

/**
 * The tokens one model call reported, or undefined. Chat models report per message
 * (`usage_metadata`, LangChain's standard); older integrations report per call in
 * `llmOutput.tokenUsage`. Messages win so a call is never counted twice.
 */
export function tokenUsageOf(result: LLMResult): TokenUsage | undefined {
  let usage: TokenUsage | undefined;
  for (const generations of result.generations) {
    for (const generation of generations) {
      const reported = messageUsage(generation);
      if (reported !== undefined) usage = addUsage(usage, reported);
    }
  }
  if (usage !== undefined) return usage;
  const legacy = result.llmOutput?.tokenUsage ?? result.llmOutput?.estimatedTokenUsage;
  if (!isRecord(legacy)) return undefined;
  const inputTokens = numberOr0(legacy.promptTokens);
  const outputTokens = numberOr0(legacy.completionTokens);
  const totalTokens = numberOr0(legacy.totalTokens) || inputTokens + outputTokens;
  return totalTokens === 0 ? undefined : { inputTokens, outputTokens, totalTokens };
}

/** Sums two usages; either may be missing. */
export function addUsage(sum: TokenUsage | undefined, usage: TokenUsage): TokenUsage {
  if (sum === undefined) return { ...usage };
  return {
    inputTokens: sum.inputTokens + usage.inputTokens,
    outputTokens: sum.outputTokens + usage.outputTokens,
    totalTokens: sum.totalTokens + usage.totalTokens,
  };
}

function messageUsage(generation: object): TokenUsage | undefined {
  const message = (generation as { message?: unknown }).message;
  if (!isRecord(message)) return undefined;
  const usage = message.usage_metadata;
  if (!isRecord(usage)) return undefined;
  const inputTokens = numberOr0(usage.input_tokens);
  const outputTokens = numberOr0(usage.output_tokens);
  return { inputTokens, outputTokens, totalTokens: numberOr0(usage.total_tokens) || inputTokens + outputTokens };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function numberOr0(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}
