import { setTracingDisabled } from "@openai/agents";
import { assistantMessage } from "@openai/agents/testing";
import { describe, expect, it } from "vitest";
import { DIGEST_PREFIX, digestCarryOver, modelSummary } from "../src/carry-over.js";
import { offlineModel, userTexts } from "../src/offline-model.js";

const session = { namespace: "whatsapp", userId: "5511", sessionId: "new", isNew: true } as never;
const ended = [
  { type: "message", role: "user", content: "my bill came twice" },
  { type: "function_call", name: "transfer_to_billing", callId: "c1", arguments: "{}" },
  { type: "function_call_result", callId: "c1", output: { type: "text", text: "{}" } },
  { type: "message", role: "assistant", content: [{ type: "output_text", text: "I refunded one of them." }] },
];

describe("digestCarryOver", () => {
  it("offline: quotes the user's last message and our last answer, leaving tool calls out", async () => {
    const seeded = await digestCarryOver().seed({ session, previousSessionId: "old", items: ended });
    expect(seeded).toEqual([
      {
        role: "system",
        content: `${DIGEST_PREFIX} the user last wrote "my bill came twice"; we answered "I refunded one of them.".`,
      },
    ]);
  });

  it("seeds nothing from a conversation without a user message, and clips long quotes", async () => {
    expect(await digestCarryOver().seed({ session, previousSessionId: "old", items: [] })).toBeUndefined();
    const long = await digestCarryOver().seed({
      session,
      previousSessionId: "old",
      items: [{ role: "user", content: "x".repeat(1_000) }],
    });
    const [digest] = (long ?? []) as Array<{ content: string }>;
    expect(digest?.content).toMatch(/x…"\.$/);
    expect(digest?.content.length).toBeLessThan(300);
  });

  it("with a model: the model's summary of the transcript is the digest", async () => {
    setTracingDisabled(true);
    const transcripts: string[] = [];
    const model = offlineModel((request) => {
      transcripts.push(userTexts(request).join("\n"));
      return [assistantMessage("  Wanted a refund for a double bill; one charge was refunded. ")];
    });
    const seeded = await digestCarryOver(modelSummary(model)).seed({ session, previousSessionId: "old", items: ended });
    expect(transcripts).toEqual(["user: my bill came twice\nassistant: I refunded one of them."]);
    expect(seeded).toEqual([
      { role: "system", content: `${DIGEST_PREFIX} Wanted a refund for a double bill; one charge was refunded.` },
    ]);
  });
});
