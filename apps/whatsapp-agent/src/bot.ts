import { type Model, setTracingDisabled } from "@openai/agents";
import { SessionHooks } from "@threadline/openai-agents";
import type { ErrorHandler, SessionEndHandler, SessionStore } from "@threadline/session-core";
import { createAgents } from "./agents.js";
import type { AgentReply, RespondOptions } from "./app.js";
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
}

/** The agent behind the webhook: one threadline session (and memory) per phone number. */
export function createBot(options: BotOptions = {}): {
  hooks: SessionHooks;
  respond: (message: IncomingMessage, options?: Partial<RespondOptions>) => Promise<AgentReply>;
} {
  if (typeof options.model !== "string") setTracingDisabled(true);
  const triage = createAgents(options.model);
  const hooks = new SessionHooks({
    namespace: "whatsapp",
    inactivityTimeout: options.inactivityTimeout ?? 120,
    ...(options.store ? { store: options.store } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.onSessionEnd ? { onSessionEnd: options.onSessionEnd } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return {
    hooks,
    async respond(message, respondOptions) {
      const signal = respondOptions?.signal;
      const result = await hooks.run(triage, message.text, { userId: message.from, ...(signal ? { signal } : {}) });
      const session = await hooks.sessionOf(result);
      return { text: String(result.finalOutput ?? ""), sessionId: session?.sessionId ?? "none" };
    },
  };
}
