import { Agent, type Model, run } from "@openai/agents";
import type { CarryOver } from "@threadline/session-core";

/** How the seed of a user's next conversation starts: the agents (and the offline model) look for it. */
export const DIGEST_PREFIX = "Earlier conversation with this user (ended):";

const MAX_QUOTE = 200;

/**
 * A carry-over that seeds a phone number's next conversation with one system item: a digest of
 * the conversation that ended. `summarize` writes it with a model; without one (the offline demo)
 * it is the user's last message and the agent's last answer, quoted. The ended conversation's
 * items reach `seed` once and are gone afterwards; a conversation with no user message seeds nothing.
 */
export function digestCarryOver(summarize?: (transcript: string) => Promise<string>): CarryOver {
  return {
    async seed({ items }) {
      const lines = transcriptOf(items);
      if (!lines.some((line) => line.role === "user")) return undefined;
      const digest =
        summarize === undefined
          ? quotedDigest(lines)
          : (await summarize(lines.map((line) => `${line.role}: ${line.text}`).join("\n"))).trim();
      if (digest.length === 0) return undefined;
      return [{ role: "system", content: `${DIGEST_PREFIX} ${digest}` }];
    },
  };
}

/** A digest written by a model (the app's real one): two sentences a later agent can use. */
export function modelSummary(model: string | Model): (transcript: string) => Promise<string> {
  const summarizer = new Agent({
    name: "Conversation digest",
    instructions:
      "Summarize this WhatsApp support conversation in at most two short sentences for the agent who talks to the user next: what the user wanted and where it stands. No greetings.",
    model,
  });
  return async (transcript) => String((await run(summarizer, transcript)).finalOutput ?? "");
}

interface Line {
  role: "user" | "assistant";
  text: string;
}

/** The user's and the agents' texts, oldest first; tool calls, handoffs and earlier digests left out. */
function transcriptOf(items: readonly unknown[]): Line[] {
  const lines: Line[] = [];
  for (const item of items) {
    const { role, content } = (item ?? {}) as { role?: unknown; content?: unknown };
    if (role !== "user" && role !== "assistant") continue;
    const text = textOf(content).trim();
    if (text.length > 0) lines.push({ role, text });
  }
  return lines;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => ((part as { text?: unknown })?.text === undefined ? "" : String((part as { text: unknown }).text)))
    .join("");
}

function quotedDigest(lines: readonly Line[]): string {
  const user = lines.findLast((line) => line.role === "user");
  const answer = lines.findLast((line) => line.role === "assistant");
  const said = `the user last wrote "${clip(user?.text ?? "")}"`;
  return answer === undefined ? `${said}.` : `${said}; we answered "${clip(answer.text)}".`;
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= MAX_QUOTE ? flat : `${flat.slice(0, MAX_QUOTE - 1)}…`;
}
