import type { SessionEndEvent, SessionEndHandler, SessionEndReason } from "@threadline/session-core";
import type { SendOptions } from "./app.js";

/** Options for {@link sessionEndSurvey}. */
export interface SurveyOptions {
  /** The app's send path (the Graph API, or the demo's log): the survey goes out as any reply does. */
  send: (to: string, text: string, options: SendOptions) => Promise<void>;
  /** Milliseconds the survey's send may take before it is aborted. Default 15000, as a reply's. */
  sendTimeoutMs?: number;
  /**
   * Conversations shorter than this many turns (messages of the user) get no survey. Default 2:
   * a lone "oi", and the rating a user sends back (which starts a conversation of its own), are
   * not asked about.
   */
  minTurns?: number;
}

/**
 * Ends that close a conversation the user had: quiet for the inactivity timeout, or past the
 * limits. Not `"forgotten"` (an erasure request: never message that user again), `"replaced"`
 * or `"evicted"` (the app or the store ended it, the user did not finish).
 */
const surveyedReasons: ReadonlySet<SessionEndReason> = new Set(["expired", "closed", "max-duration", "max-turns"]);

/** The survey text: short, with the conversation's size, answerable with one digit. */
export function surveyText(event: SessionEndEvent): string {
  const turns = event.session.turns;
  return `Thanks for talking with us (${turns} message${turns === 1 ? "" : "s"})! How did we do? Reply with a number from 1 (poor) to 5 (great).`;
}

/**
 * An `onSessionEnd` that sends the user a short survey when their conversation ends. threadline
 * delivers each end once (once across instances on Redis), never on a message's path: a failed
 * send rejects, which the session manager reports to `onError` (operation `"onSessionEnd"`).
 */
export function sessionEndSurvey(options: SurveyOptions): SessionEndHandler {
  const timeoutMs = options.sendTimeoutMs ?? 15_000;
  const minTurns = options.minTurns ?? 2;
  return async (event) => {
    if (!surveyedReasons.has(event.reason) || event.session.turns < minTurns) return;
    await options.send(event.session.userId, surveyText(event), { signal: AbortSignal.timeout(timeoutMs) });
  };
}
