// The demo's agents. Offline (the default) each one gets a ScriptedModel whose replies are
// computed from what it receives, so the story is deterministic and needs no key. With
// OPENAI_API_KEY set they use a real OpenAI model (OPENAI_MODEL, or the SDK's default).
import { Agent, type AgentInputItem, type AgentOutputItem, type Model, tool, Usage } from "@openai/agents";
import { assistantMessage, functionCall, modelResponder, ScriptedModel } from "@openai/agents/testing";
import type { Tracer } from "@opentelemetry/api";
import { z } from "zod";

export type ModelMode = "offline" | "openai";

export interface DemoAgents {
  support: Agent;
  triage: Agent;
  billing: Agent;
  techSupport: Agent;
  assistant: Agent;
  /** Writes the one-line summary a new session starts with (carry-over). */
  summarizer: Agent;
}

export interface AgentsOptions {
  /**
   * Make OpenTelemetry spans for model calls (offline: a real app's HTTP or model-client
   * instrumentation makes these) and tool calls. Default: no spans.
   */
  tracer?: Tracer;
}

/** The origin's agents: a support bot, triage → billing / tech support, and a bot that remembers. */
export function createAgents(mode: ModelMode, options: AgentsOptions = {}): DemoAgents {
  const { tracer } = options;
  const model = (brain: Brain) =>
    mode === "offline" ? traced(scripted(brain), brain.name, tracer) : process.env.OPENAI_MODEL;

  const support = new Agent({
    name: "Support Bot",
    instructions: "You are a customer support agent. Be helpful and concise.",
    model: model(supportBrain),
  });

  const lookupCharges = tool({
    name: "lookup_charges",
    description: "Lists the customer's charges this month.",
    parameters: z.object({ customer: z.string() }),
    execute: async ({ customer }) => {
      const charges = `${customer}: 2 charges of $9.90 on Jan 3 (duplicate)`;
      if (tracer === undefined) return charges;
      return tracer.startActiveSpan("tool lookup_charges", (span) => {
        span.setAttribute("gen_ai.tool.name", "lookup_charges");
        span.end();
        return charges;
      });
    },
  });
  const billing = new Agent({
    name: "Billing Support",
    instructions: "You are a billing specialist. Handle payment and invoice questions. Use lookup_charges.",
    tools: [lookupCharges],
    model: model(billingBrain),
  });
  const techSupport = new Agent({
    name: "Tech Support",
    instructions: "You are a technical support specialist. Help with technical issues.",
    model: model(techBrain),
  });
  const triage = Agent.create({
    name: "Triage Agent",
    instructions:
      "You are a triage agent. Technical issues: transfer to Tech Support. Billing questions: transfer to Billing Support. General questions: answer directly.",
    handoffs: [billing, techSupport],
    model: model(triageBrain),
  });

  const assistant = new Agent({
    name: "Assistant",
    instructions: "You are a friendly assistant. Remember what the user tells you about themselves.",
    model: model(memoryBrain),
  });

  const summarizer = new Agent({
    name: "Summarizer",
    instructions:
      "Summarize this conversation in one sentence for the assistant's next conversation with the same user. Keep the user's name.",
    model: model(summaryBrain),
  });

  return { support, triage, billing, techSupport, assistant, summarizer };
}

/** Computes a scripted model's reply from the items it receives. */
type Brain = (input: AgentInputItem[]) => AgentOutputItem[];

function scripted(brain: Brain): Model {
  const usage = () => new Usage({ requests: 1, inputTokens: 42, outputTokens: 12, totalTokens: 54 });
  return new ScriptedModel(
    Array.from({ length: 1_000 }, () =>
      modelResponder((call) => {
        const input = call.request.input;
        return {
          output: brain(typeof input === "string" ? [{ role: "user", content: input }] : input),
          usage: usage(),
        };
      }),
    ),
  );
}

/** With a tracer, each model call is a span, as an instrumented model client's would be. */
function traced(model: Model, brainName: string, tracer: Tracer | undefined): Model {
  if (tracer === undefined) return model;
  return {
    getResponse: (request) =>
      tracer.startActiveSpan(`chat ${brainName.replace(/Brain$/, "")}`, async (span) => {
        span.setAttribute("gen_ai.operation.name", "chat");
        try {
          return await model.getResponse(request);
        } finally {
          span.end();
        }
      }),
    getStreamedResponse: (request) => model.getStreamedResponse(request),
  };
}

let calls = 0;
const callId = () => `call-${++calls}`;

function userTexts(input: AgentInputItem[]): string[] {
  return input.flatMap((item) =>
    "role" in item && item.role === "user" && typeof item.content === "string" ? [item.content] : [],
  );
}

function lastUserText(input: AgentInputItem[]): string {
  return userTexts(input).at(-1) ?? "";
}

function supportBrain(input: AgentInputItem[]): AgentOutputItem[] {
  const message = lastUserText(input);
  if (/order/i.test(message)) return [assistantMessage("Order #123 shipped yesterday; it arrives tomorrow.")];
  if (/refund/i.test(message)) return [assistantMessage("I've started your refund; expect it in 3 to 5 days.")];
  return [assistantMessage(`Happy to help with "${message}".`)];
}

function triageBrain(input: AgentInputItem[]): AgentOutputItem[] {
  const message = lastUserText(input);
  if (/charged|invoice|billing|refund/i.test(message)) {
    return [functionCall("transfer_to_Billing_Support", {}, { callId: callId() })];
  }
  if (/crash|error|upload|bug/i.test(message)) {
    return [functionCall("transfer_to_Tech_Support", {}, { callId: callId() })];
  }
  return [assistantMessage("We're open Monday to Friday, 9:00 to 18:00.")];
}

function billingBrain(input: AgentInputItem[]): AgentOutputItem[] {
  const last = input.at(-1);
  if (last?.type === "function_call_result" && last.name === "lookup_charges") {
    return [assistantMessage("I see a duplicate charge of $9.90 on Jan 3; I've refunded it.")];
  }
  return [functionCall("lookup_charges", { customer: "current customer" }, { callId: callId() })];
}

function techBrain(): AgentOutputItem[] {
  return [assistantMessage("Try clearing the app cache; if uploads still crash, send me the error code.")];
}

/** Texts of the system messages (a carried-over summary). */
function systemTexts(input: AgentInputItem[]): string[] {
  return input.flatMap((item) =>
    "role" in item && item.role === "system" && typeof item.content === "string" ? [item.content] : [],
  );
}

function memoryBrain(input: AgentInputItem[]): AgentOutputItem[] {
  const message = lastUserText(input);
  const introduced = /my name is (\w+)/i.exec(message);
  if (introduced) return [assistantMessage(`Nice to meet you, ${introduced[1]}!`)];
  if (/what'?s my name|what is my name/i.test(message)) {
    const earlier = [...systemTexts(input), ...userTexts(input)]
      .map((text) => /(?:my|the user's) name is (\w+)/i.exec(text)?.[1])
      .findLast((name) => name !== undefined);
    return [assistantMessage(earlier ? `Your name is ${earlier}.` : "I don't know your name yet.")];
  }
  return [assistantMessage("Tell me more!")];
}

/** Summarizes a transcript ("user: …" / "assistant: …" lines) in one sentence. */
function summaryBrain(input: AgentInputItem[]): AgentOutputItem[] {
  const transcript = lastUserText(input);
  const name = /my name is (\w+)/i.exec(transcript)?.[1];
  const asked = transcript.split("\n").filter((line) => line.startsWith("user: ")).length;
  return [
    assistantMessage(
      `${name ? `The user's name is ${name}. ` : ""}They sent ${asked} message${asked === 1 ? "" : "s"} last time.`,
    ),
  ];
}
