import type { AgentInputItem, ModelRequest } from "@openai/agents";
import { assistantMessage, functionCall, modelResponder, ScriptedModel } from "@openai/agents/testing";
import { DIGEST_PREFIX } from "./carry-over.js";

/**
 * The demo's model when no OPENAI_API_KEY is set: the SDK's ScriptedModel, answering every call
 * with rules instead of a fixed script, so the webhook can serve any number of messages offline.
 * Each answer re-arms the script with the same responder; ScriptedModel takes a step
 * synchronously when a call starts, so concurrent calls never find the script empty.
 */
export function offlineModel(
  answer: (request: ModelRequest) => ReturnType<typeof assistantMessage>[] | ReturnType<typeof functionCall>[],
): ScriptedModel {
  const model = new ScriptedModel();
  const step = () =>
    modelResponder((call) => {
      model.enqueue(step());
      return answer(call.request);
    });
  model.enqueue(step());
  return model;
}

/** The user's messages in a model request, oldest first (memory included). */
export function userTexts(request: ModelRequest): string[] {
  if (typeof request.input === "string") return [request.input];
  return request.input.flatMap((item: AgentInputItem) => {
    if (!("role" in item) || item.role !== "user") return [];
    if (typeof item.content === "string") return [item.content];
    return item.content.flatMap((part) => ("text" in part && typeof part.text === "string" ? [part.text] : []));
  });
}

/** A handoff call to the handoff whose tool name contains `target`. */
export function handoffTo(request: ModelRequest, target: string): ReturnType<typeof functionCall>[] {
  const handoff = request.handoffs.find((candidate) => candidate.toolName.toLowerCase().includes(target));
  if (handoff === undefined) throw new Error(`no handoff to ${target} offered`);
  return [functionCall(handoff.toolName, {}, { callId: `call_${crypto.randomUUID()}` })];
}

export { assistantMessage };

/** The digest of the user's previous conversation that carry-over put first in this one, if any. */
export function carriedDigest(request: ModelRequest): string | undefined {
  if (typeof request.input === "string") return undefined;
  for (const item of request.input) {
    if (
      "role" in item &&
      item.role === "system" &&
      typeof item.content === "string" &&
      item.content.startsWith(DIGEST_PREFIX)
    ) {
      return item.content.slice(DIGEST_PREFIX.length).trim();
    }
  }
  return undefined;
}
