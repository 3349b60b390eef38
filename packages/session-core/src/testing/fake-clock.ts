/** A clock that only moves when told to. Pass `clock.now` as a manager's `now` option. */
export interface FakeClock {
  /** The current time in ms since epoch. Safe to pass around unbound. */
  readonly now: () => number;
  /** Moves the clock forward by `seconds` (fractions allowed). */
  advance(seconds: number): void;
  /** Sets the clock to a time in ms since epoch. */
  set(time: number): void;
}

/** 2025-01-07 12:00:00 UTC, the moment of the origin SDK's guide (`support-user-123-20250107-120000`). */
export const GUIDE_EPOCH: number = Date.UTC(2025, 0, 7, 12, 0, 0);

/** A fake clock starting at `start` (ms since epoch, default {@link GUIDE_EPOCH}). */
export function createFakeClock(start: number = GUIDE_EPOCH): FakeClock {
  let time = start;
  return {
    now: () => time,
    advance(seconds) {
      time += Math.round(seconds * 1000);
    },
    set(next) {
      time = next;
    },
  };
}
