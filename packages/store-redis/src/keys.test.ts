import { hostileIds } from "@threadline/session-core/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashTag, pairKeys, parseSessionKey, sessionKeyPattern } from "./keys.js";

// Ids as the manager accepts them: any well-formed string, braces and separators included.
const id = fc.oneof(
  fc.string({
    minLength: 1,
    maxLength: 12,
    unit: fc.constantFrom("a", "b", ":", "-", "{", "}", "%", "7", "B", "*", "\\"),
  }),
  fc.constantFrom(...hostileIds),
  fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" }),
);

/** Redis glob matching for the subset the patterns use: `*` and backslash escapes. */
function globMatches(pattern: string, text: string): boolean {
  let source = "";
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index] as string;
    if (character === "\\") source += (pattern[++index] as string).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else if (character === "*") source += "[\\s\\S]*";
    else source += character.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`).test(text);
}

describe("keys", () => {
  it("never gives two distinct (namespace, userId) pairs the same key", () => {
    fc.assert(
      fc.property(id, id, id, id, (namespaceA, userA, namespaceB, userB) => {
        fc.pre(namespaceA !== namespaceB || userA !== userB);
        expect(pairKeys("p:", namespaceA, userA).session).not.toBe(pairKeys("p:", namespaceB, userB).session);
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps the documented confusable pairs apart", () => {
    expect(pairKeys("p:", "a-b", "c").session).not.toBe(pairKeys("p:", "a", "b-c").session);
    expect(pairKeys("p:", "a:b", "c").session).not.toBe(pairKeys("p:", "a", "b:c").session);
    expect(pairKeys("p:", "a", "%7D").session).not.toBe(pairKeys("p:", "a", "}").session);
  });

  it("puts a brace-free hash tag in both keys, so they share a Cluster slot", () => {
    fc.assert(
      fc.property(id, id, (namespace, userId) => {
        const tag = hashTag(namespace, userId);
        expect(tag).not.toMatch(/[{}]/);
        const keys = pairKeys("threadline:", namespace, userId);
        expect(keys.session).toBe(`threadline:s:{${tag}}`);
        expect(keys.items).toBe(`threadline:i:{${tag}}`);
      }),
    );
  });

  it("recovers the pair from a session key, for listing", () => {
    fc.assert(
      fc.property(id, id, (namespace, userId) => {
        expect(parseSessionKey("p:", pairKeys("p:", namespace, userId).session)).toEqual({ namespace, userId });
      }),
    );
    expect(parseSessionKey("p:", "p:i:{1:a:b}")).toBeUndefined();
    expect(parseSessionKey("p:", "other")).toBeUndefined();
    expect(parseSessionKey("p:", "p:s:{9:a:b}")).toBeUndefined();
  });

  it("builds SCAN patterns that match exactly the session keys of one namespace", () => {
    fc.assert(
      fc.property(id, id, id, (namespace, other, userId) => {
        const pattern = sessionKeyPattern("p*[x]:", namespace);
        expect(globMatches(pattern, pairKeys("p*[x]:", namespace, userId).session)).toBe(true);
        expect(globMatches(pattern, pairKeys("p*[x]:", namespace, userId).items)).toBe(false);
        if (other !== namespace) expect(globMatches(pattern, pairKeys("p*[x]:", other, userId).session)).toBe(false);
        expect(globMatches(sessionKeyPattern("p*[x]:"), pairKeys("p*[x]:", other, userId).session)).toBe(true);
      }),
    );
  });
});
