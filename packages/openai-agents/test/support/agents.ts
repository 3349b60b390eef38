// Agents for the tests: real `Agent`s on the real `Runner`, with `ScriptedModel`s whose replies
// are computed from what the model receives, so concurrent runs can be checked for mixing.
import { Agent, type AgentInputItem, type AgentOutputItem, tool, Usage } from "@openai/agents";
import { assistantMessage, functionCall, modelResponder, ScriptedModel } from "@openai/agents/testing";
import { z } from "zod";

/** Enough scripted steps for any test; each step computes its reply from the request. */
const STEPS = 2_000;

/** Token usage every scripted reply reports, so records have something to add up. */
export const USAGE_PER_CALL = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };

/** The scripted model of an agent built here, to inspect what it received. */
export function modelOf(agent: Agent): ScriptedModel {
  if (!(agent.model instanceof ScriptedModel)) throw new Error(`${agent.name} has no scripted model`);
  return agent.model;
}

/** The model input as items (the SDK may pass a plain string). */
export function itemsOf(input: string | AgentInputItem[]): AgentInputItem[] {
  return typeof input === "string" ? [{ role: "user", content: input }] : input;
}

/** Every text the model was shown, one per item, in order: user messages, assistant messages and tool results. */
export function textsOf(input: string | AgentInputItem[]): string[] {
  const texts: string[] = [];
  for (const item of itemsOf(input)) {
    if ("role" in item && typeof item.content === "string") texts.push(item.content);
    else if ("role" in item && Array.isArray(item.content)) {
      for (const part of item.content as unknown[]) {
        const text = (part as { text?: unknown }).text;
        if (typeof text === "string") texts.push(text);
      }
    } else if (item.type === "function_call_result") {
      const output = item.output as { text?: unknown } | string;
      texts.push(typeof output === "string" ? output : String(output.text));
    }
  }
  return texts;
}

/** The newest user message the model was shown. */
export function lastUserText(input: string | AgentInputItem[]): string {
  const users = itemsOf(input).filter((item) => "role" in item && item.role === "user");
  const last = users.at(-1);
  return last && "content" in last && typeof last.content === "string" ? last.content : "";
}

/** A model that answers every call with `reply(input)`, reporting {@link USAGE_PER_CALL}. */
export function replyingModel(reply: (input: AgentInputItem[]) => AgentOutputItem[]): ScriptedModel {
  return new ScriptedModel(
    Array.from({ length: STEPS }, () =>
      modelResponder((call) => ({
        output: reply(itemsOf(call.request.input)),
        usage: new Usage({ requests: 1, ...USAGE_PER_CALL }),
      })),
    ),
  );
}

/** The last item's type decides the step: after a tool result, answer; otherwise act. */
function lastItem(input: AgentInputItem[]): AgentInputItem | undefined {
  return input.at(-1);
}

let callCounter = 0;
const nextCallId = (prefix: string) => `${prefix}-${++callCounter}`;

/** Yields to the event loop a few times, so concurrent runs interleave at their tool calls. */
async function interleave(seed: string): Promise<void> {
  const turns = [...seed].reduce((sum, char) => sum + char.charCodeAt(0), 0) % 4;
  for (let turn = 0; turn <= turns; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A support bot that echoes the user: "<name> heard: <message>". Instructions are 40
 * characters, so the origin's system-token estimate is 10.
 */
export function echoAgent(name = "Support Bot"): Agent {
  return new Agent({
    name,
    instructions: "You are helpful. Keep answers short!!!!", // 40 characters
    model: replyingModel((input) => [assistantMessage(`${name} heard: ${lastUserText(input)}`)]),
  });
}

/**
 * Triage → specialist, with a tool on each side:
 * - Triage calls `lookup_account` with the user's message, then hands off to Billing.
 * - Billing calls `refund` and answers with both tool results.
 */
export function triageAgents(): { triage: Agent; billing: Agent } {
  const refund = tool({
    name: "refund",
    description: "Refunds the last charge of the account.",
    parameters: z.object({ account: z.string() }),
    execute: async ({ account }) => {
      await interleave(account);
      return `refunded ${account}`;
    },
  });
  const lookupAccount = tool({
    name: "lookup_account",
    description: "Finds the account a message is about.",
    parameters: z.object({ message: z.string() }),
    execute: async ({ message }) => {
      await interleave(message);
      return `account of ${message}`;
    },
  });
  const billing = new Agent({
    name: "Billing",
    instructions: "You handle refunds.", // 19 characters → 4 tokens
    tools: [refund],
    model: replyingModel((input) => {
      const last = lastItem(input);
      if (last?.type === "function_call_result" && last.name === "refund") {
        const texts = textsOf(input);
        return [assistantMessage(`done: ${texts.at(-1)} (${lastUserText(input)})`)];
      }
      const account = textsOf(input).find((text) => text.startsWith("account of ")) ?? "unknown";
      return [functionCall("refund", { account }, { callId: nextCallId("refund") })];
    }),
  });
  const triage = new Agent({
    name: "Triage",
    instructions: "Route the customer to the right team, or answer.", // 48 characters → 12 tokens
    tools: [lookupAccount],
    handoffs: [billing],
    model: replyingModel((input) => {
      const last = lastItem(input);
      if (last?.type === "function_call_result") {
        return [functionCall("transfer_to_Billing", {}, { callId: nextCallId("handoff") })];
      }
      return [functionCall("lookup_account", { message: lastUserText(input) }, { callId: nextCallId("lookup") })];
    }),
  });
  return { triage, billing };
}
