import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utcStamp } from "../session-id.js";
import { GUIDE_EPOCH } from "../testing/fake-clock.js";
import { isLive, nextSession, type StoredSession } from "./stored-session.js";

const key = { namespace: "support", userId: "user-123" };
const candidateAt = (now: number) => `support-user-123-${utcStamp(now)}`;

describe("nextSession", () => {
  it("suffixes a second session within one second with the key's counter", () => {
    const first = nextSession(undefined, key, candidateAt(GUIDE_EPOCH), { now: GUIDE_EPOCH, timeoutMs: 1000 });
    const second = nextSession(first, key, candidateAt(GUIDE_EPOCH + 500), { now: GUIDE_EPOCH + 500, timeoutMs: 1000 });
    expect([first.sessionId, second.sessionId]).toEqual([
      "support-user-123-20250107-120000",
      "support-user-123-20250107-120000-2",
    ]);
    expect(isLive(second, GUIDE_EPOCH + 1499)).toBe(true);
    expect(isLive(second, GUIDE_EPOCH + 1500)).toBe(false);
  });

  it("never repeats an id when proposals come from clocks that lag by up to 10 s", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -10_000, max: 2_000 }), { minLength: 1, maxLength: 60 }), (steps) => {
        let session: StoredSession | undefined;
        let realTime = GUIDE_EPOCH;
        const seen = new Set<string>();
        for (const step of steps) {
          // Real time only moves forward; a negative step is a proposal from a lagging process.
          realTime += Math.max(0, step);
          const now = step < 0 ? realTime + step : realTime;
          session = nextSession(session, key, candidateAt(now), { now, timeoutMs: 120_000 });
          expect(seen.has(session.sessionId)).toBe(false);
          seen.add(session.sessionId);
        }
      }),
    );
  });
});
