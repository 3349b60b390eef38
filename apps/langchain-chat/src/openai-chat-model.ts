// A minimal chat model for any OpenAI-compatible `/chat/completions` endpoint, over fetch.
// The example uses it instead of @langchain/openai because that package (and the openai SDK it
// brings) is large and its current release needs Node 22; text chat is all the example needs.
import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";

export interface OpenAICompatibleChatModelOptions extends BaseChatModelParams {
  apiKey: string;
  /** Default `https://api.openai.com/v1`. */
  baseUrl?: string;
  /** Default `gpt-4o-mini`. */
  model?: string;
}

interface CompletionResponse {
  choices?: { message?: { content?: string | null } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

const roles: Record<string, string> = { human: "user", ai: "assistant", system: "system" };

export class OpenAICompatibleChatModel extends BaseChatModel {
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly model: string;

  constructor(options: OpenAICompatibleChatModelOptions) {
    super(options);
    this.#apiKey = options.apiKey;
    this.#baseUrl = (options.baseUrl ?? "https://api.openai.com/v1").replace(/\/+$/, "");
    this.model = options.model ?? "gpt-4o-mini";
  }

  _llmType(): string {
    return "openai-compatible";
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const response = await fetch(`${this.#baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.#apiKey}` },
      body: JSON.stringify({
        model: this.model,
        messages: messages.map((message) => ({ role: roles[message.getType()] ?? "user", content: message.text })),
      }),
      signal: options.signal,
    });
    if (!response.ok) {
      throw new Error(`The model endpoint answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    }
    const body = (await response.json()) as CompletionResponse;
    const text = body.choices?.[0]?.message?.content ?? "";
    const usage = body.usage;
    const message = new AIMessage({
      content: text,
      usage_metadata:
        usage === undefined
          ? undefined
          : {
              input_tokens: usage.prompt_tokens ?? 0,
              output_tokens: usage.completion_tokens ?? 0,
              total_tokens: usage.total_tokens ?? 0,
            },
    });
    return { generations: [{ text, message }] };
  }
}
