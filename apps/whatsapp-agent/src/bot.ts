import { type Model, setTracingDisabled } from "@openai/agents";
import { SessionHooks } from "@threadline/openai-agents";
import { withSession } from "@threadline/otel";
import {
  type ErrorHandler,
  memoryStore,
  type RunRecord,
  type SessionEndHandler,
  type SessionStore,
} from "@threadline/session-core";
import { createErrorSink } from "@threadline/session-core/adapter-kit";
import { createAgents } from "./agents.js";
import type { AgentReply, RespondOptions } from "./app.js";
import { digestCarryOver, modelSummary } from "./carry-over.js";
import { MessageMemory } from "./message-memory.js";
import type { IncomingMessage } from "./payload.js";

/** Options for {@link createBot}. */
export interface BotOptions {
  /** Where sessions and conversation memory live. Default: memory (one process). */
  store?: SessionStore;
  /** A real OpenAI model name, or a `Model` of your own; offline rules when omitted. */
  model?: string | Model;
  /** Seconds of silence before a phone number's next message starts a new conversation. Default 120. */
  inactivityTimeout?: number;
  now?: () => number;
  /** Called once when a phone number's conversation ends (the survey of `sessionEndSurvey`). Not awaited by any message. */
  onSessionEnd?: SessionEndHandler;
  /** Failures threadline kept away from the messages: the store, a failed `onSessionEnd`. Default: log the first of each kind. */
  onError?: ErrorHandler;
  /**
   * Seed a phone number's next conversation with a digest of the one that ended (written by the
   * model; offline, the user's last message and our last answer). Default true, on stores that
   * apply item changes atomically (memory, Redis); skipped, with a warning, on others.
   */
  carryOver?: boolean;
  /**
   * One record per answered (or failed) message: the run's agents, handoffs, tool calls, tokens and
   * timings, in its session. Give a record sink's `add` (`createRecordSink`); not awaited by the message.
   */
  onRecord?: (record: RunRecord) => void;
}

/** The agent behind the webhook: one threadline session (and memory) per phone number. */
export function createBot(options: BotOptions = {}): {
  hooks: SessionHooks;
  respond: (message: IncomingMessage, options?: Partial<RespondOptions>) => Promise<AgentReply>;
} {
  if (typeof options.model !== "string") setTracingDisabled(true);
  const triage = createAgents(options.model);
  const store = options.store ?? memoryStore();
  let carryOver = options.carryOver ?? true;
  if (carryOver && store.items?.apply === undefined) {
    console.warn(`[whatsapp-agent] the ${store.name} store cannot carry a conversation over; new ones start empty`);
    carryOver = false;
  }
  const hooks = new SessionHooks({
    namespace: "whatsapp",
    inactivityTimeout: options.inactivityTimeout ?? 120,
    store,
    ...(carryOver ? { carryOver: digestCarryOver(options.model ? modelSummary(options.model) : undefined) } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.onSessionEnd ? { onSessionEnd: options.onSessionEnd } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
    ...(options.onRecord ? { onRecord: options.onRecord } : {}),
    // The run goes on inside its session's OpenTelemetry context once the hooks resolved it: every
    // span of the run (a model client's, a tool's) carries session.id and user.id from its start.
    runInSession: withSession,
  });
  const memoryErrors = createErrorSink("whatsapp-agent", options.onError);
  return {
    hooks,
    async respond(message, respondOptions) {
      const signal = respondOptions?.signal;
      // The context the hooks file the run under; the memory finds the run's session through it.
      const context = { userId: message.from };
      const memory = new MessageMemory({
        sessionManager: hooks.sessionManager,
        session: () => hooks.sessionOf(context),
        messageId: message.id,
        onError: (error, errorContext) => memoryErrors.report(error, errorContext),
      });
      const result = await hooks.run(triage, message.text, { context, session: memory, ...(signal ? { signal } : {}) });
      const session = await hooks.sessionOf(result);
      return {
        text: String(result.finalOutput ?? ""),
        sessionId: session?.sessionId ?? "none",
        ...(session ? { session } : {}),
      };
    },
  };
}
