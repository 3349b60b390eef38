// Test fixtures: a LangChain fake chat model that reports token usage (LangChain's own fakes
// never do) and a way to interleave concurrent runs. The failing store is core's `faultyStore`.
import type { BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { FakeListChatModel } from "@langchain/core/utils/testing";
/** `FakeListChatModel` whose replies carry `usage_metadata`, like real providers' messages. */
export class UsageReportingFakeChatModel extends FakeListChatModel {
  override async _generate(
    messages: BaseMessage[],
    options?: this["ParsedCallOptions"],
    runManager?: Parameters<FakeListChatModel["_generate"]>[2],
  ): Promise<ChatResult> {
    const result = await super._generate(messages, options, runManager);
    for (const generation of result.generations) {
      Object.assign(generation.message, {
        usage_metadata: {
          input_tokens: messages.length * 10,
          output_tokens: 5,
          total_tokens: messages.length * 10 + 5,
        },
      });
    }
    return result;
  }
}

/** Yields to the event loop `turns` times, so concurrent runs interleave differently. */
export async function yieldTurns(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
