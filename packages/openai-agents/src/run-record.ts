import type { AgentInputItem } from "@openai/agents";

/** One handoff of a run, by agent name. */
export interface HandoffRecord {
  from: string;
  to: string;
}

/** One tool call of a run. */
export interface ToolCallRecord {
  /** The agent that called the tool. */
  agent: string;
  tool: string;
  /** The model's call id, when the tool kind has one (function tools do). */
  callId?: string;
  /** The arguments as the model sent them (a JSON string for function tools). */
  arguments?: string;
  /** What the tool returned; absent when the tool never finished (the run failed or paused for approval). */
  result?: string;
}

/** Token counts of one run. */
export interface RunUsage {
  /** Model requests made by the run. */
  requests: number;
  /** Input tokens across all requests, as the model provider reported them. */
  inputTokens: number;
  /** Output tokens across all requests, as the model provider reported them. */
  outputTokens: number;
  /** `inputTokens + outputTokens`, as the model provider reported it. */
  totalTokens: number;
  /**
   * The origin SDK's estimate of the system prompt's share: instructions length / 4, summed over
   * the agents the run activated. Only string instructions count (dynamic instructions are not
   * called twice). Already included in `inputTokens`; an estimate, not a bill.
   */
  systemTokensEstimate: number;
}

/** What happened in one run, emitted to `onRecord` when the run's final agent ends. */
export interface RunRecord {
  /** The threadline session the run belongs to; `null` when the store could not be reached. */
  sessionId: string | null;
  userId: string;
  namespace: string;
  /** Agents in the order the run activated them, e.g. `["Triage", "Billing"]`. */
  agents: string[];
  /** The agent that produced the final output. */
  finalAgent: string;
  handoffs: HandoffRecord[];
  toolCalls: ToolCallRecord[];
  /** The user's message that started the run (text parts only). */
  input: string;
  /** The final output as the SDK reports it to `agent_end` (text, or JSON for structured output). */
  output: string;
  usage: RunUsage;
  /** When the run's first agent started (ms since epoch, from the hooks' clock). */
  startedAt: number;
  /** When the final agent ended (ms since epoch, from the hooks' clock). */
  endedAt: number;
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
    for (const part of content as unknown[]) {
      if (isTextPart(part)) texts.push(part.text);
    }
    return texts.join("\n");
  }
  return "";
}

function isTextPart(part: unknown): part is { text: string } {
  return (
    typeof part === "object" &&
    part !== null &&
    (part as { type?: unknown }).type === "input_text" &&
    typeof (part as { text?: unknown }).text === "string"
  );
}

/** The origin's estimate: ~4 characters per token, for string instructions only. */
export function estimateSystemTokens(instructions: unknown): number {
  return typeof instructions === "string" ? Math.floor(instructions.length / 4) : 0;
}
