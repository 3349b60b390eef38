// The refund agent of the memory tests under the real Runner, shared by the memory-store and
// Redis-store runs.
import { Agent, type AgentInputItem, tool } from "@openai/agents";
import { assistantMessage, functionCall } from "@openai/agents/testing";
import { z } from "zod";
import { lastUserText, replyingModel } from "./agents.js";

/**
 * An agent that, for each user message, thinks, calls `refund` with the message (call id from the
 * message, so two runs of the same input produce the same items), thinks again and answers with
 * the tool's result.
 */
export function refundAgent(
  options: { needsApproval?: boolean; blockOutput?: () => boolean; stopOnFirstTool?: boolean } = {},
): Agent {
  const refund = tool({
    name: "refund",
    description: "Refunds an order.",
    parameters: z.object({ order: z.string() }),
    needsApproval: options.needsApproval ?? false,
    execute: async ({ order }) => `refunded ${order}`,
  });
  const reasoning = (text: string): AgentInputItem => ({ type: "reasoning", content: [{ type: "input_text", text }] });
  return new Agent({
    name: "Refunds",
    instructions: "Refund what the user asks.",
    tools: [refund],
    model: replyingModel((input) => {
      const last = input.at(-1);
      const order = lastUserText(input);
      if (last?.type === "function_call_result") {
        return [reasoning(`answer ${order}`), assistantMessage(`done: ${order}`)] as never;
      }
      const call = functionCall("refund", { order }, { callId: `call-${order}` });
      // The SDK keeps a blocked run's tool effects by the call's item id (as the API assigns one).
      if (options.stopOnFirstTool) return [{ ...call, id: `fc-${order}` }];
      return [reasoning(`plan ${order}`), call] as never;
    }),
    ...(options.stopOnFirstTool ? { toolUseBehavior: "stop_on_first_tool" as const } : {}),
    ...(options.blockOutput
      ? {
          outputGuardrails: [
            {
              name: "block",
              execute: async () => ({ outputInfo: null, tripwireTriggered: options.blockOutput?.() ?? false }),
            },
          ],
        }
      : {}),
  });
}
