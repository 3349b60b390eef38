// Test fixtures: a store that can be switched off, a counting wrapper, and a LangChain fake chat
// model that reports token usage (LangChain's own fakes never do).
import type { BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { memoryStore, type SessionStore } from "@threadline/session-core";

/** A memory store wrapper whose every method rejects while `down` is true, and that counts calls. */
export interface SwitchableStore {
  store: SessionStore;
  down: boolean;
  calls: { resolve: number; touch: number; items: number };
}

export function switchableStore(inner: SessionStore = memoryStore()): SwitchableStore {
  const state: SwitchableStore = {
    store: inner,
    down: false,
    calls: { resolve: 0, touch: 0, items: 0 },
  };
  const fail = async (): Promise<never> => {
    throw new Error("connect ECONNREFUSED 127.0.0.1:1");
  };
  const innerItems = inner.items;
  state.store = {
    specificationVersion: "v1",
    name: "switchable",
    capabilities: inner.capabilities,
    async resolve(request) {
      state.calls.resolve++;
      return state.down ? fail() : inner.resolve(request);
    },
    async touch(request) {
      state.calls.touch++;
      return state.down ? fail() : inner.touch(request);
    },
    async get(request) {
      return state.down ? fail() : inner.get(request);
    },
    async close(request) {
      return state.down ? fail() : inner.close(request);
    },
    items:
      innerItems === undefined
        ? undefined
        : {
            async append(request, items) {
              state.calls.items++;
              return state.down ? fail() : innerItems.append(request, items);
            },
            async list(request, limit) {
              state.calls.items++;
              return state.down ? fail() : innerItems.list(request, limit);
            },
            async pop(request) {
              state.calls.items++;
              return state.down ? fail() : innerItems.pop(request);
            },
            async clear(request) {
              state.calls.items++;
              return state.down ? fail() : innerItems.clear(request);
            },
          },
  } satisfies SessionStore;
  return state;
}

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
