import type { AgentInputItem, protocol } from "@openai/agents";
import type { ResolvedSession } from "@threadline/session-core";
import {
  estimateSystemTokens,
  type HandoffRecord,
  latestUserText,
  type RunRecord,
  type RunUsage,
  type ToolCallRecord,
} from "./run-record.js";

/** Which emitter an event came from. The SDK emits each event on the Runner and on the agent. */
export type EventSource = "runner" | "agent";

/** The token counters of a `RunContext`, read at the end of the run. */
export interface UsageCounters {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/**
 * Everything the hooks know about one run. One per run, keyed by the run's `RunContext`, so
 * concurrent runs on one Runner never share state (the origin kept it on the hooks object).
 */
export class RunTracker {
  readonly userId: string;
  readonly namespace: string;
  readonly startedAt: number;
  /** The run's session: `undefined` while resolving, `null` when resolving failed. */
  session: ResolvedSession | null | undefined = undefined;
  /** Settles with {@link session} once resolution is over. Never rejects. */
  readonly ready: Promise<ResolvedSession | null>;
  /** The user's message; set by the run wrapper, or taken from the first agent's turn input. */
  input: string | undefined;
  /** The final agent has ended; another `agent_start` on the same context is a new run. */
  ended = false;
  readonly #agents: string[] = [];
  readonly #handoffs: HandoffRecord[] = [];
  readonly #toolCalls: ToolCallRecord[] = [];
  #systemTokens = 0;
  #lastEvent: { source: EventSource; kind: string; key: unknown } | undefined;

  /** `resolving` is the store call; a failure is handed to `onError` and leaves the run without a session. */
  constructor(
    userId: string,
    namespace: string,
    startedAt: number,
    resolving: Promise<ResolvedSession>,
    onError: (error: unknown) => void,
  ) {
    this.userId = userId;
    this.namespace = namespace;
    this.startedAt = startedAt;
    this.ready = resolving.then(
      (session) => {
        this.session = session;
        return session;
      },
      (error: unknown) => {
        this.session = null;
        onError(error);
        return null;
      },
    );
  }

  /**
   * True when this event is the second copy of one just handled from the other emitter. The SDK
   * emits each lifecycle event on the Runner and on the agent back to back, synchronously, so
   * hooks attached to both see every event twice in a row; the copy is dropped.
   */
  isEcho(source: EventSource, kind: string, key: unknown): boolean {
    const last = this.#lastEvent;
    if (last !== undefined && last.source !== source && last.kind === kind && last.key === key) {
      this.#lastEvent = undefined;
      return true;
    }
    this.#lastEvent = { source, kind, key };
    return false;
  }

  agentStarted(name: string, instructions: unknown, turnInput: readonly AgentInputItem[] | undefined): void {
    this.#agents.push(name);
    this.#systemTokens += estimateSystemTokens(instructions);
    if (this.input === undefined && turnInput !== undefined) this.input = latestUserText(turnInput);
  }

  handedOff(from: string, to: string): void {
    this.#handoffs.push({ from, to });
  }

  toolStarted(agent: string, tool: string, toolCall: protocol.ToolCallItem | undefined): void {
    const call: ToolCallRecord = { agent, tool };
    const callId = callIdOf(toolCall);
    if (callId !== undefined) call.callId = callId;
    if (toolCall?.type === "function_call") call.arguments = toolCall.arguments;
    this.#toolCalls.push(call);
  }

  toolEnded(tool: string, result: string, toolCall: protocol.ToolCallItem | undefined): void {
    const callId = callIdOf(toolCall);
    // Match by call id when there is one; otherwise the latest unfinished call of that tool.
    for (let index = this.#toolCalls.length - 1; index >= 0; index--) {
      const call = this.#toolCalls[index];
      if (call === undefined || call.result !== undefined) continue;
      if (callId !== undefined ? call.callId === callId : call.tool === tool) {
        call.result = result;
        return;
      }
    }
  }

  /** The run's record, once it has ended and its session is known. */
  toRecord(finalAgent: string, output: string, counters: UsageCounters, endedAt: number): RunRecord {
    const usage: RunUsage = {
      requests: counters.requests,
      inputTokens: counters.inputTokens,
      outputTokens: counters.outputTokens,
      totalTokens: counters.totalTokens,
      systemTokensEstimate: this.#systemTokens,
    };
    return {
      sessionId: this.session?.sessionId ?? null,
      userId: this.userId,
      namespace: this.namespace,
      agents: [...this.#agents],
      finalAgent,
      handoffs: [...this.#handoffs],
      toolCalls: this.#toolCalls.map((call) => ({ ...call })),
      input: this.input ?? "",
      output,
      usage,
      startedAt: this.startedAt,
      endedAt,
    };
  }
}

/** The model's id for a tool call, when the tool kind has one. */
export function callIdOf(toolCall: protocol.ToolCallItem | undefined): string | undefined {
  if (toolCall === undefined || !("callId" in toolCall)) return undefined;
  return typeof toolCall.callId === "string" ? toolCall.callId : undefined;
}
