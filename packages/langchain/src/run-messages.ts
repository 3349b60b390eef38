import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import type { RunMessage } from "@threadline/session-core";
import { boundedText, boundedValue } from "@threadline/session-core/adapter-kit";
import type { RootRun } from "./run-tracker.js";

/** What the record's `messages` and `models` are built with: the handler's limits. */
export interface MessageLimits {
  maxMessagesPerRun: number;
  maxValueLength: number;
}

/**
 * A chat model call of the run started: its name joins `models`, and its input joins `messages`.
 * The run's first call brings the whole conversation (system prompt, history, the user's
 * message); a later call (an agent loop) only what follows the previous call's answer (tool
 * results), so the conversation is not repeated per call.
 */
export function chatModelStarted(
  root: RootRun,
  model: string | undefined,
  input: readonly (readonly BaseMessage[])[],
  limits: MessageLimits,
): void {
  addModel(root, model, limits);
  const messages = input.flat();
  const seen = root.modelInputLength === undefined ? 0 : root.modelInputLength + 1;
  root.modelInputLength = messages.length;
  for (const message of messages.slice(seen)) addMessage(root, messageOf(message, limits.maxValueLength), limits);
}

/** A completion model call (string prompts) started: each prompt is a user message. */
export function llmStarted(
  root: RootRun,
  model: string | undefined,
  prompts: readonly string[],
  limits: MessageLimits,
): void {
  addModel(root, model, limits);
  root.modelInputLength = undefined;
  for (const prompt of prompts) {
    addMessage(root, { role: "user", content: boundedText(prompt, limits.maxValueLength) }, limits);
  }
}

/** A model call of the run answered: each generation is an assistant message. */
export function llmEnded(root: RootRun, output: LLMResult, limits: MessageLimits): void {
  for (const generations of output.generations) {
    for (const generation of generations) {
      const message = (generation as { message?: BaseMessage }).message;
      const answer: RunMessage | undefined =
        message !== undefined && isMessage(message)
          ? messageOf(message, limits.maxValueLength)
          : typeof generation.text === "string"
            ? { role: "assistant", content: boundedText(generation.text, limits.maxValueLength) }
            : undefined;
      if (answer !== undefined) addMessage(root, answer, limits);
    }
  }
}

/**
 * The model's name as LangChain reports it: metadata `ls_model_name` (set by chat model
 * integrations), else the serialized model's `model`/`modelName`/`model_name` kwarg.
 */
export function modelNameOf(serialized: unknown, metadata: Record<string, unknown> | undefined): string | undefined {
  const reported = metadata?.ls_model_name;
  if (typeof reported === "string" && reported !== "") return reported;
  const kwargs = (serialized as { kwargs?: Record<string, unknown> } | undefined)?.kwargs;
  if (typeof kwargs !== "object" || kwargs === null) return undefined;
  for (const key of ["model", "modelName", "model_name"]) {
    const name = kwargs[key];
    if (typeof name === "string" && name !== "") return name;
  }
  return undefined;
}

function addModel(root: RootRun, model: string | undefined, limits: MessageLimits): void {
  if (model === undefined || root.models.length >= limits.maxMessagesPerRun) return;
  const name = boundedText(model, limits.maxValueLength);
  if (!root.models.includes(name)) root.models.push(name);
}

/** Keeps the newest `maxMessagesPerRun` messages: a long history must not crowd out the answer. */
function addMessage(root: RootRun, message: RunMessage, limits: MessageLimits): void {
  if (message.content === "") return; // an answer that is only tool calls: those are in toolCalls
  root.messages.push(message);
  if (root.messages.length > limits.maxMessagesPerRun) root.messages.shift();
}

const roles: Readonly<Record<string, RunMessage["role"]>> = {
  human: "user",
  ai: "assistant",
  system: "system",
  developer: "system",
  tool: "tool",
  function: "tool",
};

function messageOf(message: BaseMessage, maxLength: number): RunMessage {
  const type = typeOf(message);
  const generic = (message as { role?: unknown }).role;
  const role = roles[type] ?? (typeof generic === "string" ? (roles[generic] ?? asRole(generic)) : undefined) ?? "user";
  return { role, content: contentOf(message.content, maxLength) };
}

/** A generic `ChatMessage`'s role when it already is one of ours ("assistant", "user"…). */
function asRole(role: string): RunMessage["role"] | undefined {
  return role === "user" || role === "assistant" || role === "system" || role === "tool" ? role : undefined;
}

function typeOf(message: BaseMessage): string {
  const getType = (message as { getType?: () => string; _getType?: () => string }).getType;
  if (typeof getType === "function") return getType.call(message);
  const legacy = (message as { _getType?: () => string })._getType;
  return typeof legacy === "function" ? legacy.call(message) : "";
}

function isMessage(value: unknown): value is BaseMessage {
  return typeof value === "object" && value !== null && "content" in value;
}

/** Text content as it is; text parts joined; anything else as bounded JSON. */
function contentOf(content: unknown, maxLength: number): string {
  if (typeof content === "string") return boundedText(content, maxLength);
  if (Array.isArray(content)) {
    const texts: string[] = [];
    let other = false;
    for (const part of content as { type?: unknown; text?: unknown }[]) {
      if (typeof part === "string") texts.push(part);
      else if (part?.type === "text" && typeof part.text === "string") texts.push(part.text);
      else other = true;
    }
    if (texts.length > 0 || !other) return boundedText(texts.join("\n"), maxLength);
  }
  const bounded = boundedValue(content, maxLength);
  return typeof bounded === "string" ? bounded : boundedText(JSON.stringify(bounded) ?? "", maxLength);
}
