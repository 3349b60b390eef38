// What the conformance suite cannot see of the lifecycle: every key a pair leaves (or not) after
// forgetUser, what a cleanup costs on the server with many live sessions and few expired ones,
// the cluster's per-slot expiry indexes, and the history's cap and TTLs.

import { type SessionEndEvent, SessionManager } from "@threadline/session-core";
import { MAX_HISTORY_PER_USER } from "@threadline/session-core/store-kit";
import { createFakeClock, uniqueNamespace } from "@threadline/session-core/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { redisStore } from "../src/index.js";
import { hashSlot, hashTag, pairKeys, SLOTS, slotKeyring, slotTags } from "../src/keys.js";
import { type RedisServer, startRedisServer } from "../src/testing/redis-server.js";
import { connectCluster, connectSingle, type TestClient } from "./clients.js";
import { keysUnder } from "./processes.js";

// A server of this file's own: command counts and key scans must not see the other files.
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server.stop());

const uniquePrefix = () => `lifecycle-${uniqueNamespace()}:`;

async function commandCalls(connection: TestClient): Promise<Map<string, number>> {
  const info = String(await connection.command(["INFO", "commandstats"]));
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1] as string, Number(match[2]));
  return calls;
}

describe("slot tags", () => {
  it("has, for every cluster slot, a short tag that hashes to it", () => {
    const tags = slotTags();
    expect(tags).toHaveLength(SLOTS);
    tags.forEach((tag, slot) => {
      expect(tag.length).toBeLessThanOrEqual(4);
      expect(hashSlot(tag)).toBe(slot);
    });
    // Redis's own reference value (CLUSTER KEYSLOT 123456789).
    expect(hashSlot("123456789")).toBe(12739);
  });
});

describe.each(["ioredis@5", "redis@5"] as const)("with %s on a server of its own", (flavor) => {
  let connection: TestClient;
  beforeAll(async () => {
    connection = await connectSingle(flavor, server.url);
  });
  afterAll(() => connection.close());

  it("forgetUser leaves no key of the pair, nor its index entry, and the neighbour untouched", async () => {
    const keyPrefix = uniquePrefix();
    const clock = createFakeClock();
    const store = redisStore({ client: connection.client, clock: "app", keyPrefix });
    const sessions = new SessionManager({
      store,
      now: clock.now,
      namespace: "ns",
      retention: 3_600,
      cleanupInterval: 0,
    });
    const first = await sessions.resolve("user");
    await sessions.addItems(first, ["a"]);
    await sessions.resolve("user", undefined, { forceNew: true });
    const live = await sessions.resolve("user", undefined, { forceNew: true });
    await sessions.addItems(live, ["b"]);
    await sessions.resolve("neighbour");
    const mine = pairKeys(keyPrefix, "ns", "user");
    const before = await keysUnder(connection, keyPrefix);
    expect(before).toEqual(expect.arrayContaining([mine.session, mine.items, mine.history]));

    expect(await sessions.forgetUser("user")).toBe(3); // the live one and two in history
    const after = await keysUnder(connection, keyPrefix);
    const neighbour = pairKeys(keyPrefix, "ns", "neighbour");
    // Left: the neighbour's session, the shared index (now only the neighbour in it), and the
    // shared high-water marks of forgotten pairs (numbers, nothing that names the user).
    expect(after).toEqual([`${keyPrefix}f`, neighbour.session, `${keyPrefix}x`].sort());
    expect(await connection.command(["ZRANGE", `${keyPrefix}x`, "0", "-1"])).toEqual([hashTag("ns", "neighbour")]);
    const marks = (await connection.command(["HGETALL", `${keyPrefix}f`])) as unknown;
    const fields = Array.isArray(marks) ? marks.filter((_, index) => index % 2 === 0) : Object.keys(marks as object);
    expect(fields.sort()).toEqual(["hw", "seq"]);
    expect(Number(await connection.command(["PTTL", `${keyPrefix}f`]))).toBeGreaterThan(0);

    // Within the same second, the pair's next id is none it had before.
    const next = await sessions.resolve("user");
    expect([first.sessionId, live.sessionId]).not.toContain(next.sessionId);
    expect(next.previousSessionId).toBeUndefined();
  });

  it("cleans up at a cost in proportion to what expired, not to the live sessions", async () => {
    const keyPrefix = uniquePrefix();
    const clock = createFakeClock();
    const store = redisStore({ client: connection.client, clock: "app", keyPrefix });
    const ends: SessionEndEvent[] = [];
    const options = {
      store,
      now: clock.now,
      cleanupInterval: 0,
      onSessionEnd: (end: SessionEndEvent) => void ends.push(end),
    };
    const short = new SessionManager({ ...options, namespace: "short", inactivityTimeout: 10 });
    const long = new SessionManager({ ...options, namespace: "long", inactivityTimeout: 3_600 });
    for (let index = 0; index < 2_000; index++) await long.resolve(`user-${index}`);
    for (let index = 0; index < 5; index++) await short.resolve(`user-${index}`);
    clock.advance(10);
    await connection.command(["CONFIG", "RESETSTAT"]);
    expect(await short.cleanupExpired()).toBe(5);
    const calls = await commandCalls(connection);
    // One index read and one claim script, which read five sessions: nothing of the 2,000 live ones.
    expect(calls.get("zrangebyscore")).toBe(1);
    expect(calls.get("evalsha")).toBe(1);
    expect(calls.get("hmget")).toBe(5);
    await short.flush();
    expect(ends.map((end) => `${end.session.namespace}/${end.session.userId}:${end.reason}`).sort()).toEqual(
      [0, 1, 2, 3, 4].map((index) => `short/user-${index}:expired`),
    );

    // A session renewed since it was indexed is re-checked once when its indexed expiry passes,
    // re-scored to its real one, and left alone until then.
    const renewed = new SessionManager({ ...options, namespace: "renewed", inactivityTimeout: 10 });
    for (let index = 0; index < 50; index++) await renewed.resolve(`user-${index}`);
    clock.advance(9);
    for (let index = 0; index < 50; index++) await renewed.resolve(`user-${index}`);
    clock.advance(1);
    await connection.command(["CONFIG", "RESETSTAT"]);
    expect(await renewed.cleanupExpired()).toBe(0);
    expect((await commandCalls(connection)).get("hmget")).toBe(50);
    await connection.command(["CONFIG", "RESETSTAT"]);
    expect(await renewed.cleanupExpired()).toBe(0);
    expect((await commandCalls(connection)).get("hmget") ?? 0).toBe(0);
    clock.advance(9);
    expect(await renewed.cleanupExpired()).toBe(50);
    expect(Number(await connection.command(["ZCARD", `${keyPrefix}x`]))).toBe(2_000);
  });

  it("claims in batches: a cleanup of many expired sessions holds Redis one batch at a time", async () => {
    const keyPrefix = uniquePrefix();
    const clock = createFakeClock();
    const store = redisStore({ client: connection.client, clock: "app", keyPrefix, sweepBatchSize: 30 });
    const sessions = new SessionManager({
      store,
      now: clock.now,
      namespace: "ns",
      inactivityTimeout: 10,
      cleanupInterval: 0,
    });
    for (let index = 0; index < 100; index++) await sessions.resolve(`user-${index}`);
    clock.advance(10);
    await connection.command(["CONFIG", "RESETSTAT"]);
    expect(await sessions.cleanupExpired()).toBe(100);
    expect((await commandCalls(connection)).get("evalsha")).toBe(4); // 30 + 30 + 30 + 10
    expect(Number(await connection.command(["ZCARD", `${keyPrefix}x`]))).toBe(0);
  });

  it("caps a pair's history at 1,000 entries, newest first, with TTLs the session record outlives", async () => {
    const keyPrefix = uniquePrefix();
    const clock = createFakeClock();
    const store = redisStore({ client: connection.client, clock: "app", keyPrefix, idHistoryMs: 60_000 });
    const retention = 7_200; // two hours, above the record's own TTL (timeout + idHistoryMs)
    const sessions = new SessionManager({ store, now: clock.now, namespace: "ns", retention, cleanupInterval: 0 });
    const ids: string[] = [];
    for (let index = 0; index < MAX_HISTORY_PER_USER + 5; index++) {
      ids.push((await sessions.resolve("user", undefined, { forceNew: index > 0 })).sessionId);
    }
    const keys = pairKeys(keyPrefix, "ns", "user");
    expect(Number(await connection.command(["LLEN", keys.history]))).toBe(MAX_HISTORY_PER_USER);
    const ended = await store.list({ now: clock.now(), namespace: "ns", userId: "user", status: "ended", limit: 2000 });
    expect(ended.sessions).toHaveLength(MAX_HISTORY_PER_USER);
    expect(ended.sessions[0]?.sessionId).toBe(ids.at(-2));
    expect(ended.sessions.at(-1)?.sessionId).toBe(ids[4]);
    const historyTtl = Number(await connection.command(["PTTL", keys.history]));
    expect(historyTtl).toBeGreaterThan(retention * 1000 - 60_000);
    expect(historyTtl).toBeLessThanOrEqual(retention * 1000);
    // The record keeps the id history (and the link to the previous session) as long as the history.
    expect(Number(await connection.command(["PTTL", keys.session]))).toBeGreaterThanOrEqual(historyTtl);

    // Entries past their retention leave the list when the next end is kept.
    clock.advance(retention);
    await sessions.resolve("user", undefined, { forceNew: true });
    expect(Number(await connection.command(["LLEN", keys.history]))).toBe(1);
  });

  it("keeps no history with retention 0, and a closed session only as a tombstone", async () => {
    const keyPrefix = uniquePrefix();
    const clock = createFakeClock();
    const store = redisStore({ client: connection.client, clock: "app", keyPrefix });
    const sessions = new SessionManager({ store, now: clock.now, namespace: "ns", cleanupInterval: 0 });
    const first = await sessions.resolve("user");
    await sessions.addItems(first, ["x"]);
    await sessions.closeSession("user");
    const keys = pairKeys(keyPrefix, "ns", "user");
    // No items, no history, and out of the index (whose last entry it was, so the index is gone too).
    expect(await keysUnder(connection, keyPrefix)).toEqual([keys.session]);
    const fields = await connection.command(["HMGET", keys.session, "end", "last", "timeout"]);
    expect(fields).toEqual(["closed", "0", "0"]);
  });
});

describe("on the cluster", () => {
  let connection: TestClient;
  beforeAll(async () => {
    connection = await connectCluster("ioredis@5", inject("clusterNodes"));
  });
  afterAll(() => connection.close());

  it("indexes each pair in its own slot and sweeps every master", async () => {
    const keyPrefix = uniquePrefix();
    const clock = createFakeClock();
    const store = redisStore({ client: connection.client, clock: "app", keyPrefix });
    const ends: SessionEndEvent[] = [];
    const sessions = new SessionManager({
      store,
      now: clock.now,
      namespace: "ns",
      inactivityTimeout: 10,
      cleanupInterval: 0,
      retention: 60,
      onSessionEnd: (end) => void ends.push(end),
    });
    const users = Array.from({ length: 60 }, (_, index) => `user-${index}`);
    for (const user of users) await sessions.resolve(user);
    const ring = slotKeyring(keyPrefix, true);
    for (const user of users.slice(0, 5)) {
      const keys = pairKeys(keyPrefix, "ns", user);
      const index = ring.ofTag(keys.tag).index;
      const slot = Number(await connection.command(["CLUSTER", "KEYSLOT", keys.session]));
      expect(Number(await connection.command(["CLUSTER", "KEYSLOT", index]))).toBe(slot);
      expect(await connection.command(["ZSCORE", index, keys.tag])).not.toBeNull();
    }
    clock.advance(5);
    for (const user of users.slice(0, 20)) await sessions.resolve(user); // renewed: not due yet
    clock.advance(5);
    expect(await sessions.cleanupExpired()).toBe(40);
    expect(await sessions.cleanupExpired()).toBe(0);
    clock.advance(5);
    expect(await sessions.cleanupExpired()).toBe(20);
    await sessions.flush();
    expect(ends.map((end) => end.session.userId).sort()).toEqual([...users].sort());
    expect(new Set(ends.map((end) => end.session.sessionId)).size).toBe(users.length);
    const history = await sessions.listSessions({ userId: "user-3", status: "ended" });
    expect(history.sessions).toEqual([expect.objectContaining({ endReason: "expired", status: "ended" })]);
    expect(await sessions.forgetUser("user-3")).toBe(1);
  });
});
