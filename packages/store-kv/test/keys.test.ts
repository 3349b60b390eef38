import { env } from "cloudflare:test";
import { MAX_ID_LENGTH, SessionManager } from "@threadline/session-core";
import { createFakeClock, hostileIds, uniqueNamespace } from "@threadline/session-core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KV_MAX_KEY_BYTES, kvStore, sessionKey } from "../src/index.js";

const bytes = (text: string): number => new TextEncoder().encode(text).length;
const prefix = "threadline:";

describe("sessionKey", () => {
  it("keeps ordinary keys readable", async () => {
    expect(await sessionKey(prefix, "support", "user-123")).toBe("threadline:support:user-123");
    expect(await sessionKey(prefix, "a:b", "c d")).toBe("threadline:a%3Ab:c%20d");
  });

  it("gives every pair of hostile ids its own key of at most 512 bytes", async () => {
    const keys = new Set<string>();
    for (const namespace of hostileIds) {
      for (const userId of hostileIds) {
        const key = await sessionKey(prefix, namespace, userId);
        expect(bytes(key)).toBeLessThanOrEqual(KV_MAX_KEY_BYTES);
        keys.add(key);
      }
    }
    expect(keys.size).toBe(hostileIds.length ** 2);
  });

  it('never confuses ("a-b", "c") with ("a", "b-c"), or ("a:b", "c") with ("a", "b:c")', async () => {
    expect(await sessionKey(prefix, "a-b", "c")).not.toBe(await sessionKey(prefix, "a", "b-c"));
    expect(await sessionKey(prefix, "a:b", "c")).not.toBe(await sessionKey(prefix, "a", "b:c"));
    expect(await sessionKey(prefix, "a", "#")).not.toBe(await sessionKey(prefix, "a", "%23"));
  });

  it("hashes long parts instead of truncating them: ids differing in their last character stay apart", async () => {
    const longUser = "🙂".repeat(MAX_ID_LENGTH / 2);
    const almost = `${"🙂".repeat(MAX_ID_LENGTH / 2 - 1)}🙃`;
    const [a, b] = [await sessionKey(prefix, "support", longUser), await sessionKey(prefix, "support", almost)];
    expect(a).toMatch(/^threadline:support:#[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    // The namespace part stays plain while it leaves room for a hashed user part.
    const longBoth = await sessionKey(prefix, longUser, longUser);
    expect(longBoth).toMatch(/^threadline:#[0-9a-f]{64}:#[0-9a-f]{64}$/);
  });

  it("maps distinct (namespace, userId) pairs to distinct keys that fit, for any legal ids", async () => {
    const id = fc.string({ unit: "grapheme", minLength: 1, maxLength: MAX_ID_LENGTH / 2 });
    await fc.assert(
      fc.asyncProperty(id, id, id, id, async (namespaceA, userA, namespaceB, userB) => {
        const a = await sessionKey(prefix, namespaceA, userA);
        const b = await sessionKey(prefix, namespaceB, userB);
        expect(bytes(a)).toBeLessThanOrEqual(KV_MAX_KEY_BYTES);
        expect(a === b).toBe(namespaceA === namespaceB && userA === userB);
      }),
      { numRuns: 300 },
    );
  });

  it("fits with the longest allowed prefix", async () => {
    const longPrefix = "p".repeat(128);
    const longest = "🙂".repeat(MAX_ID_LENGTH / 2);
    expect(bytes(await sessionKey(longPrefix, longest, longest))).toBeLessThanOrEqual(KV_MAX_KEY_BYTES);
    expect(bytes(await sessionKey(longPrefix, "a".repeat(MAX_ID_LENGTH), longest))).toBeLessThanOrEqual(
      KV_MAX_KEY_BYTES,
    );
  });
});

describe("ids too long for a plain KV key", () => {
  it("are rejected by KV itself when escaped naively", async () => {
    const naive = `${prefix}support:${encodeURIComponent("🙂".repeat(MAX_ID_LENGTH / 2))}`;
    expect(bytes(naive)).toBeGreaterThan(KV_MAX_KEY_BYTES);
    await expect(env.SESSIONS.get(naive, "text")).rejects.toThrow(/512|long|length/i);
  });

  it("work end to end through the store, each kept apart", async () => {
    const clock = createFakeClock();
    const namespace = uniqueNamespace();
    const sessions = new SessionManager({ store: kvStore({ binding: env.SESSIONS }), now: clock.now, namespace });
    const users = [
      "🙂".repeat(MAX_ID_LENGTH / 2),
      `${"🙂".repeat(MAX_ID_LENGTH / 2 - 1)}🙃`,
      "%".repeat(MAX_ID_LENGTH),
    ];
    const ids = [];
    for (const user of users) ids.push(await sessions.getOrCreateSession(user));
    expect(new Set(ids).size).toBe(users.length);
    for (const [index, user] of users.entries()) {
      expect(await sessions.getSessionInfo(user)).toMatchObject({ userId: user, sessionId: ids[index] });
    }
  });
});
