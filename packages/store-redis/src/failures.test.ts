import { SessionError } from "@threadline/session-core";
import { describe, expect, it } from "vitest";
import { ClientNotConnected } from "./client.js";
import { toSessionError } from "./failures.js";

function codeOf(error: unknown): string | undefined {
  return SessionError.isInstance(error) ? error.code : undefined;
}

class ReplyError extends Error {
  override name = "ReplyError";
}

describe("toSessionError", () => {
  it("calls only connection failures and timeouts an outage", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const maxRetries = Object.assign(new Error("Reached the max retries per request limit (which is 1)."), {
      name: "MaxRetriesPerRequestError",
    });
    for (const error of [
      refused,
      maxRetries,
      new Error("Connection is closed."),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new ReplyError("LOADING Redis is loading the dataset in memory"),
      new ReplyError("CLUSTERDOWN The cluster is down"),
    ]) {
      expect(codeOf(toSessionError(error, "resolve"))).toBe("STORE_UNAVAILABLE");
    }
  });

  it("calls everything else a STORE_ERROR: a full stack, a bug, a refused command", () => {
    let overflow: unknown;
    const recurse = (depth: number): number => recurse(depth + 1) + 1;
    try {
      recurse(0);
    } catch (error) {
      overflow = error;
    }
    expect(overflow).toBeInstanceOf(RangeError);
    for (const error of [
      overflow,
      new TypeError("Cannot read properties of undefined"),
      new Error("something unexpected"),
      "a string",
      new ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value"),
      new ReplyError("OOM command not allowed when used memory > 'maxmemory'"),
    ]) {
      const mapped = toSessionError(error, "items.append");
      expect(codeOf(mapped)).toBe("STORE_ERROR");
      expect(mapped.message).toMatch(/^\[threadline\] \[redis\] /);
    }
  });

  it("reports a client the app has not connected as INVALID_OPTION", () => {
    const closed = new ClientNotConnected("call `await client.connect()` first", new Error("The client is closed"));
    const mapped = toSessionError(closed, "resolve");
    expect(codeOf(mapped)).toBe("INVALID_OPTION");
    expect(mapped.message).toContain("await client.connect()");
  });
});
