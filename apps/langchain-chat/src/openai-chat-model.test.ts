// The real-provider path, against an OpenAI-compatible server on a loopback port that this test
// starts and stops: the story's second message must reach the model together with the first.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { OpenAICompatibleChatModel } from "./openai-chat-model.js";
import { runLangChainChat } from "./story.js";

type Request = { model: string; messages: { role: string; content: string }[] };
const requests: Request[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    request.on("end", () => {
      if (request.url !== "/v1/chat/completions" || request.headers.authorization !== "Bearer test-key") {
        response.writeHead(401).end("unauthorized");
        return;
      }
      const parsed = JSON.parse(body) as Request;
      requests.push(parsed);
      const humans = parsed.messages.filter((message) => message.role === "user").length;
      response.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          choices: [{ message: { role: "assistant", content: `I have seen ${humans} user messages.` } }],
          usage: {
            prompt_tokens: 10 * parsed.messages.length,
            completion_tokens: 7,
            total_tokens: 10 * parsed.messages.length + 7,
          },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

it("sends the session's history to a real model endpoint and records its token usage", async () => {
  const model = new OpenAICompatibleChatModel({ apiKey: "test-key", baseUrl, model: "test-model" });
  const lines: string[] = [];
  const records = await runLangChainChat((line) => lines.push(line), { model });

  expect(requests).toHaveLength(8);
  expect(requests[0]?.model).toBe("test-model");
  expect(requests[0]?.messages.map((message) => message.role)).toEqual(["system", "user"]);
  // Ada's second chain message carries her first exchange; Bob's carries nothing of hers.
  expect(requests[1]?.messages.map((message) => message.content)).toEqual([
    "You are a friendly support assistant. Answer in one sentence.",
    "My name is Ada.",
    "I have seen 1 user messages.",
    "What is my name?",
  ]);
  expect(requests[2]?.messages.map((message) => message.content)).not.toContain("My name is Ada.");
  // The agent's second turn replays the checkpointed thread.
  expect(requests[5]?.messages.map((message) => message.content)).toEqual([
    "I'm planning a trip to Lisbon.",
    "I have seen 1 user messages.",
    "Where am I going?",
  ]);
  expect(lines.join("\n")).toContain("reply: I have seen 2 user messages.");
  expect(records[1]?.usage).toEqual({ inputTokens: 40, outputTokens: 7, totalTokens: 47 });
});

it("reports an endpoint error as a failed run", async () => {
  const model = new OpenAICompatibleChatModel({ apiKey: "wrong-key", baseUrl, maxRetries: 0 });
  await expect(runLangChainChat(() => {}, { model })).rejects.toThrow(/answered 401: unauthorized/);
});
