import { exports } from "cloudflare:workers";
import type { ResolvedSession } from "@threadline/session-core";
import { uniqueNamespace } from "@threadline/session-core/testing";
import { describe, expect, it } from "vitest";

async function chat(path: "/kv" | "/durable-object", namespace: string, userId: string): Promise<ResolvedSession> {
  const response = await exports.default.fetch(`https://app.example${path}?namespace=${namespace}`, {
    headers: { "x-user-id": userId },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as ResolvedSession;
}

describe.each(["/kv", "/durable-object"] as const)("a Worker building the store per request from env (%s)", (path) => {
  it("keeps one session across requests and users apart", async () => {
    const namespace = uniqueNamespace();
    const first = await chat(path, namespace, "user-123");
    expect(first).toMatchObject({ isNew: true, namespace, userId: "user-123" });
    const again = await chat(path, namespace, "user-123");
    expect(again).toMatchObject({ isNew: false, sessionId: first.sessionId });
    const other = await chat(path, namespace, "user-456");
    expect(other.isNew).toBe(true);
  });
});
