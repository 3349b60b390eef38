import type { LLMResult } from "@langchain/core/outputs";
import type { RunUsage } from "@threadline/session-core";

/**
 * The tokens one model call reported, or undefined. Chat models report per message
 * (`usage_metadata`, LangChain's standard); older integrations report per call in
 * `llmOutput.tokenUsage`. Messages win so a call is never counted twice.
 */
export function usageOf(result: LLMResult): RunUsage | undefined {
  let usage: RunUsage | undefined;
  for (const generations of result.generations) {
    for (const generation of generations) {
      const reported = (generation as { message?: { usage_metadata?: unknown } }).message?.usage_metadata;
      if (isRecord(reported)) {
        usage = addUsage(usage, counted(reported.input_tokens, reported.output_tokens, reported.total_tokens));
      }
    }
  }
  if (usage !== undefined) return usage;
  const legacy = result.llmOutput?.tokenUsage ?? result.llmOutput?.estimatedTokenUsage;
  if (!isRecord(legacy)) return undefined;
  const total = counted(legacy.promptTokens, legacy.completionTokens, legacy.totalTokens);
  return total.totalTokens === 0 ? undefined : total;
}

/** Sums two usages; the first may be missing. */
export function addUsage(sum: RunUsage | undefined, usage: RunUsage): RunUsage {
  if (sum === undefined) return { ...usage };
  return {
    inputTokens: sum.inputTokens + usage.inputTokens,
    outputTokens: sum.outputTokens + usage.outputTokens,
    totalTokens: sum.totalTokens + usage.totalTokens,
  };
}

function counted(input: unknown, output: unknown, total: unknown): RunUsage {
  const inputTokens = numberOr0(input);
  const outputTokens = numberOr0(output);
  return { inputTokens, outputTokens, totalTokens: numberOr0(total) || inputTokens + outputTokens };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function numberOr0(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}
