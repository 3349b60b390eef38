// The Worker inside workerd, through its real fetch entry point, with real KV and Durable Object bindings.
import { exports } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";

interface ChatResponse {
  sessionId: string;
  isNew: boolean;
  reply?: string;
}

const worker = exports.default;

async function tokenFor(user: string, secret = "test-jwt-secret"): Promise<string> {
  return sign({ sub: user, exp: Math.floor(Date.now() / 1000) + 600 }, secret, "HS256");
}

async function post(
  path: string,
  user: string,
  body: unknown = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return worker.fetch(`https://edge.example${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${await tokenFor(user)}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function say(user: string, message: string): Promise<ChatResponse> {
  const response = await post("/chat/messages", user, { message });
  expect(response.status).toBe(200);
  return (await response.json()) as ChatResponse;
}

describe("edge chat on a Durable Object", () => {
  it("keeps one session per user with memory of earlier turns", async () => {
    const user = `ada-${crypto.randomUUID()}`;
    const first = await say(user, "hello");
    expect(first).toMatchObject({ isNew: true, reply: 'Hello! You said "hello". This conversation is new.' });
    expect(first.sessionId).toMatch(new RegExp(`^edge-chat-${user}-\\d{8}-\\d{6}$`));
    const second = await say(user, "what's my balance?");
    expect(second).toMatchObject({ sessionId: first.sessionId, isNew: false });
    expect(second.reply).toBe(`You said "what's my balance?". Earlier in this conversation: "hello".`);
  });

  it("ending the conversation starts a fresh session with no memory", async () => {
    const user = `bob-${crypto.randomUUID()}`;
    const first = await say(user, "hello");
    expect(await (await post("/chat/end", user)).json()).toEqual({ ended: true });
    const next = await say(user, "hi again");
    expect(next.isNew).toBe(true);
    expect(next.sessionId).not.toBe(first.sessionId);
    expect(next.reply).toContain("This conversation is new.");
  });

  it("gives 20 concurrent first requests of one user one session", async () => {
    const user = `carla-${crypto.randomUUID()}`;
    const responses = await Promise.all(Array.from({ length: 20 }, () => say(user, "hi")));
    expect(new Set(responses.map((response) => response.sessionId)).size).toBe(1);
    expect(responses.filter((response) => response.isNew)).toHaveLength(1);
  });

  it("never shares a session or memory between users, and ignores a client-sent session id", async () => {
    const alice = await say(`alice-${crypto.randomUUID()}`, "my secret is 42");
    const response = await post(
      "/chat/messages",
      `mallory-${crypto.randomUUID()}`,
      { message: "what did alice say?" },
      { "x-session-id": alice.sessionId },
    );
    const mallory = (await response.json()) as ChatResponse;
    expect(mallory.sessionId).not.toBe(alice.sessionId);
    expect(mallory.reply).not.toContain("42");
    // The header is `{namespace}/{userId}/{sessionId}`, each part percent-encoded.
    expect(response.headers.get("x-session-id")?.split("/").map(decodeURIComponent)[2]).toBe(mallory.sessionId);
  });

  it("refuses requests without a valid token", async () => {
    const anonymous = await worker.fetch("https://edge.example/chat/messages", { method: "POST", body: "{}" });
    expect(anonymous.status).toBe(401);
    const forged = await worker.fetch("https://edge.example/chat/messages", {
      method: "POST",
      headers: { authorization: `Bearer ${await tokenFor("alice", "wrong-secret")}` },
      body: "{}",
    });
    expect(forged.status).toBe(401);
  });

  it("answers 400 to a message that is not a string", async () => {
    const response = await post("/chat/messages", `dan-${crypto.randomUUID()}`, { message: 42 });
    expect(response.status).toBe(400);
  });
});

describe("edge chat on Workers KV (the cheap option)", () => {
  it("keeps one session per user across sequential requests", async () => {
    const user = `eve-${crypto.randomUUID()}`;
    const first = (await (await post("/lite/chat/messages", user)).json()) as ChatResponse;
    const second = (await (await post("/lite/chat/messages", user)).json()) as ChatResponse;
    expect(first.isNew).toBe(true);
    expect(second).toEqual({ sessionId: first.sessionId, isNew: false });
    expect(first.sessionId).toMatch(/^edge-lite-eve-/);
  });
});
