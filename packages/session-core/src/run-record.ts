/**
 * One record per run, the same type from every adapter: an OpenAI Agents run, a LangChain root
 * run. `onRecord` receives it. Times are ms since epoch from the session manager's clock.
 * `version` changes only when a field changes meaning; new optional fields may appear within a version.
 */
export interface RunRecord {
  /** Format version of the record. */
  version: 1;
  /** The adapter that built it: `"openai-agents"`, `"langchain"`. */
  source: string;
  /** The run's id: the framework's when it has one (LangChain's root run id), else a random UUID. */
  runId: string;
  namespace: string;
  userId: string;
  /** The session the run belongs to; `null` when the store could not be reached (see `onError`). */
  sessionId: string | null;
  /** The root run's name (LangChain, e.g. `"RunnableSequence"`), or the first agent's (Agents). */
  name?: string;
  /** Agents in the order the run activated them, e.g. `["Triage", "Billing"]`; `[]` outside Agents. */
  agents: string[];
  /** The agent that produced the final output (Agents). */
  finalAgent?: string;
  /** The session's turn this run was: the `turns` of the session when the run resolved it. */
  turn?: number;
  /** The models the run called, by name, in the order of first use (e.g. `["gpt-4.1-mini"]`). */
  models?: string[];
  /**
   * The conversation messages of the run, in order: what the user said and what the run
   * answered (and, with Agents, each agent's messages), bounded like the other values.
   */
  messages?: RunMessage[];
  handoffs: HandoffRecord[];
  /** Tools executed anywhere in the run, in the order they started. */
  toolCalls: ToolCallRecord[];
  /** What started the run: the user's message text (Agents), the root run's input (LangChain). */
  input: unknown;
  /** What the run returned; absent when it failed or paused (an approval interruption). */
  output?: unknown;
  /** The error message when the run failed. */
  error?: string;
  /** Tokens summed over the run's model calls; absent when no model reported any. */
  usage?: RunUsage;
  /** When the run started and ended. */
  startedAt: number;
  endedAt: number;
  /** The root run's tags (LangChain). */
  tags?: string[];
  /** The root run's metadata (LangChain; includes `session_id`, `thread_id`, `user_id` from `sessionConfig`). */
  metadata?: Record<string, unknown>;
}

/** One message of a run. */
export interface RunMessage {
  role: "user" | "assistant" | "system" | "tool";
  /** The message text (or a bounded JSON rendering of non-text content). */
  content: string;
  /** The agent that spoke (Agents). */
  agent?: string;
}

/** One handoff of a run, by agent name. */
export interface HandoffRecord {
  from: string;
  to: string;
}

/** One tool call of a run. */
export interface ToolCallRecord {
  /** The tool's name. */
  name: string;
  /** The agent that called it (Agents). */
  agent?: string;
  /** The model's tool call id, when the tool was called by a model. */
  callId?: string;
  /** The arguments as the tool received them (a JSON string for function tools). */
  input?: string;
  /** What the tool returned; absent when it failed or never finished. */
  output?: unknown;
  /** The error message when the tool failed. */
  error?: string;
}

/** Token counts of one run, as the model provider reported them. */
export interface RunUsage {
  /** Model requests the run made, when the framework counts them (Agents). */
  requests?: number;
  inputTokens: number;
  outputTokens: number;
  /** `inputTokens + outputTokens` unless the provider reported otherwise. */
  totalTokens: number;
  /**
   * The origin SDK's estimate of the system prompt's share (instructions length / 4, string
   * instructions only), already included in `inputTokens`. Agents only; an estimate, not a bill.
   */
  systemTokensEstimate?: number;
}
