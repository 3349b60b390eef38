import type { AgentInputItem, protocol, RunContext, Usage } from "@openai/agents";
import type { HandoffRecord, ResolvedSession, RunMessage, RunRecord, ToolCallRecord } from "@threadline/session-core";
import {
  boundedText,
  DEFAULT_MAX_TOOL_CALLS_PER_RUN,
  DEFAULT_MAX_VALUE_LENGTH,
  describeValue,
} from "@threadline/session-core/adapter-kit";
import { source } from "./options.js";

// A run's texts are kept bounded, as in every adapter: one huge message or tool result must not
// grow the process while the run is in flight, nor every record after it.
export const bounded = (text: string): string => boundedText(text, DEFAULT_MAX_VALUE_LENGTH);

/** A copy of a `RunContext`'s token counters, taken when the run ends (the SDK's object keeps counting if the context is reused). */
export type UsageCounters = Pick<Usage, "requests" | "inputTokens" | "outputTokens" | "totalTokens">;

/** Which emitter an event came from. The SDK emits each event on the Runner and on the agent. */
export type EventSource = "runner" | "agent";

/**
 * Everything the hooks know about one run. One per run, keyed by the run's `RunContext`, so
 * concurrent runs on one Runner never share state (the origin kept it on the hooks object).
 */
export class RunTracker {
  /** The run's id in its record and in `onError` contexts. */
  readonly runId: string = crypto.randomUUID();
  /** The run's session: `undefined` while resolving, `null` when resolving failed. */
  session: ResolvedSession | null | undefined = undefined;
  /** Settles with {@link session} once resolution is over. Never rejects. */
  readonly ready: Promise<ResolvedSession | null>;
  /** The user's message; set by the run wrapper, or taken from the first agent's turn input. */
  input: string | undefined;
  /** The final agent has ended; another `agent_start` on the same context is a new run. */
  ended = false;
  /** The SDK's own `RunContext` of the run, when it is not the one the run was started with (another copy's Runner). */
  sdkContext: RunContext<unknown> | undefined;
  readonly #agents: string[] = [];
  readonly #handoffs: HandoffRecord[] = [];
  readonly #toolCalls: ToolCallRecord[] = [];
  /** Model names in the order of first use; as many as the run's agents at most. */
  readonly #models: string[] = [];
  #systemTokens = 0;
  #lastEvent: { source: EventSource; kind: string; key: unknown } | undefined;

  /** `resolving` is the store call; a failure is handed to `onError` and leaves the run without a session. */
  constructor(
    readonly userId: string,
    readonly namespace: string,
    readonly startedAt: number,
    resolving: Promise<ResolvedSession>,
    onError: (error: unknown, runId: string) => void,
  ) {
    this.ready = resolving.then(
      (session) => {
        this.session = session;
        return session;
      },
      (error: unknown) => {
        this.session = null;
        onError(error, this.runId);
        return null;
      },
    );
  }

  /**
   * True when this event is the second copy of one just handled from the other emitter. The SDK
   * emits each lifecycle event on the Runner and on the agent back to back, synchronously, so
   * hooks attached to both see every event twice in a row; the copy is dropped.
   */
  isEcho(from: EventSource, kind: string, key: unknown): boolean {
    const last = this.#lastEvent;
    if (last !== undefined && last.source !== from && last.kind === kind && last.key === key) {
      this.#lastEvent = undefined;
      return true;
    }
    this.#lastEvent = { source: from, kind, key };
    return false;
  }

  agentStarted(
    name: string,
    instructions: unknown,
    model: unknown,
    turnInput: readonly AgentInputItem[] | undefined,
  ): void {
    this.#agents.push(name);
    const modelName = modelNameOf(model);
    if (modelName !== undefined && !this.#models.includes(modelName)) this.#models.push(modelName);
    // The origin's estimate, ~4 characters per token; dynamic instructions are not called twice.
    if (typeof instructions === "string") this.#systemTokens += Math.floor(instructions.length / 4);
    if (this.input === undefined && turnInput !== undefined) this.input = bounded(latestUserText(turnInput));
  }

  handedOff(from: string, to: string): void {
    this.#handoffs.push({ from, to });
  }

  toolStarted(agent: string, name: string, toolCall: protocol.ToolCallItem | undefined): void {
    const call: ToolCallRecord = { name, agent };
    const callId = callIdOf(toolCall);
    if (callId !== undefined) call.callId = callId;
    if (toolCall?.type === "function_call") call.input = bounded(toolCall.arguments);
    if (this.#toolCalls.length < DEFAULT_MAX_TOOL_CALLS_PER_RUN) this.#toolCalls.push(call);
  }

  /**
   * The SDK reported the call's end. A tool that threw reaches here too, as text: the fixed
   * message of the SDK's default `errorFunction` (or of its timeout/parse-error/redaction
   * fallbacks), which becomes the call's `error`; a custom `errorFunction`'s text cannot be told
   * from a result and stays `output`. A tool that fails the run ends with `String(error)`, which
   * {@link runFailed} turns into `error` once the run's failure is known.
   */
  toolEnded(name: string, output: string, toolCall: protocol.ToolCallItem | undefined): void {
    const call = this.#openCall(name, callIdOf(toolCall));
    if (call === undefined) return;
    if (isSdkToolFailure(name, output)) call.error = bounded(output);
    else call.output = bounded(output);
  }

  /**
   * The run threw. The call that threw it already ended with the error's text as its output (the
   * SDK emits `agent_tool_end` with `String(error)`, then rethrows, wrapped in a `ToolCallError`
   * or not): that output becomes `error`. A call that never ended failed with the run.
   */
  runFailed(error: unknown): void {
    const wrapped: unknown =
      typeof error === "object" && error !== null ? (error as { error?: unknown }).error : undefined;
    for (const candidate of wrapped === undefined ? [error] : [wrapped, error]) {
      const reported = safeString(candidate);
      const call = this.#toolCalls.findLast((c) => reported !== undefined && c.output === bounded(reported));
      if (call === undefined) continue;
      delete call.output;
      call.error = bounded(errorMessage(candidate));
      break;
    }
    for (const call of this.#toolCalls) {
      if (call.output === undefined && call.error === undefined) call.error = bounded(errorMessage(error));
    }
  }

  /** The call an end event belongs to: by call id when there is one, else the latest unfinished call of that tool. */
  #openCall(name: string, callId: string | undefined): ToolCallRecord | undefined {
    for (let index = this.#toolCalls.length - 1; index >= 0; index--) {
      const call = this.#toolCalls[index];
      if (call === undefined || call.output !== undefined || call.error !== undefined) continue;
      if (callId !== undefined ? call.callId === callId : call.name === name) return call;
    }
    return undefined;
  }

  /** The run's record, once it has ended (or failed) and its session is known. */
  toRecord(outcome: RunOutcome, usage: UsageCounters, endedAt: number): RunRecord {
    const { requests, inputTokens, outputTokens, totalTokens } = usage;
    const reported = requests > 0 || totalTokens > 0;
    // What the hooks see of the conversation: the user's message and the final agent's answer
    // (the SDK emits no event with an intermediate agent's text).
    const messages: RunMessage[] = [];
    if (this.input) messages.push({ role: "user", content: this.input });
    if (!("error" in outcome)) {
      messages.push({ role: "assistant", content: bounded(outcome.output), agent: outcome.finalAgent });
    }
    const turns = this.session?.turns;
    return {
      version: 1,
      source,
      runId: this.runId,
      namespace: this.namespace,
      userId: this.userId,
      sessionId: this.session?.sessionId ?? null,
      ...(this.#agents[0] === undefined ? {} : { name: this.#agents[0] }),
      agents: [...this.#agents],
      ...("error" in outcome ? {} : { finalAgent: outcome.finalAgent }),
      ...(typeof turns === "number" ? { turn: turns } : {}),
      ...(this.#models.length > 0 ? { models: [...this.#models] } : {}),
      messages,
      handoffs: [...this.#handoffs],
      toolCalls: this.#toolCalls.map((call) => ({ ...call })),
      input: this.input ?? "",
      ...("error" in outcome ? { error: bounded(errorMessage(outcome.error)) } : { output: bounded(outcome.output) }),
      ...(reported
        ? {
            usage: { requests, inputTokens, outputTokens, totalTokens, systemTokensEstimate: this.#systemTokens },
          }
        : {}),
      startedAt: this.startedAt,
      endedAt,
    };
  }
}

/** How a run ended: its final agent produced `output`, or the run threw `error`. */
export type RunOutcome = { finalAgent: string; output: string } | { error: unknown };

/**
 * The texts the SDK (0.16–0.20) hands the model, and `agent_tool_end`, in place of a failed
 * tool's result: its default `errorFunction`, the redacted variant, the argument-parse fallback
 * and the default timeout message (`timeoutBehavior: "error_as_result"`). A tool that returns one
 * of these very strings is recorded as failed, which is what the model was told.
 */
const SDK_TOOL_FAILURES: ReadonlySet<string> = new Set([
  "An error occurred while running the tool. Please try again.",
  "Tool execution failed. Error details are redacted.",
  "An error occurred while parsing tool arguments. Please try again with valid JSON.",
]);

function isSdkToolFailure(toolName: string, output: string): boolean {
  if (SDK_TOOL_FAILURES.has(output)) return true;
  const timeout = `Tool '${toolName}' timed out after `;
  return output.startsWith(timeout) && /^\d+ms\.$/.test(output.slice(timeout.length));
}

/** `String(value)` as the SDK computes it for a failed tool, or `undefined` when that throws. */
function safeString(value: unknown): string | undefined {
  try {
    return String(value);
  } catch {
    return undefined;
  }
}

/** A thrown value's message, for `RunRecord.error`; never calls into a non-`Error` value. */
function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : `Non-Error thrown: ${describeValue(error)}`;
}

/**
 * The name of an agent's model: the string it was given (`model: "gpt-4.1-mini"`), or the `name`
 * of a `Model` object that has one. `undefined` for the runner's default (`""` or none) and for
 * models without a name; a name is bounded like every other value.
 */
export function modelNameOf(model: unknown): string | undefined {
  const name: unknown = typeof model === "object" && model !== null ? (model as { name?: unknown }).name : model;
  return typeof name === "string" && name !== "" ? bounded(name) : undefined;
}

/** The model's id for a tool call, when the tool kind has one. */
export function callIdOf(toolCall: protocol.ToolCallItem | undefined): string | undefined {
  if (toolCall === undefined || !("callId" in toolCall)) return undefined;
  return typeof toolCall.callId === "string" ? toolCall.callId : undefined;
}

/**
 * The text of the newest user message in `items`: the run's own input, which the SDK places
 * after any session history. Non-text parts (images, files) are left out.
 */
export function latestUserText(items: readonly AgentInputItem[]): string {
  for (let index = items.length - 1; index >= 0; index--) {
    const item = items[index];
    if (item === undefined || !("role" in item) || item.role !== "user") continue;
    const content: unknown = item.content;
    if (typeof content === "string") return content;
    if (!Array.isArray(content)) return "";
    const texts: string[] = [];
    for (const part of content as { type?: unknown; text?: unknown }[]) {
      if (part?.type === "input_text" && typeof part.text === "string") texts.push(part.text);
    }
    return texts.join("\n");
  }
  return "";
}
