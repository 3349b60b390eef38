// Real clients of every supported library, single node and cluster, as users create them.
import { Redis as Ioredis5, Cluster as Ioredis5Cluster, type RedisOptions as Ioredis5Options } from "ioredis";
import { Redis as Ioredis6, Cluster as Ioredis6Cluster, type RedisOptions as Ioredis6Options } from "ioredis-v6";
import { createClient as createNodeRedis5, createCluster as createNodeRedis5Cluster } from "redis";
import { createClient as createNodeRedis4, createCluster as createNodeRedis4Cluster } from "redis-v4";
import { createClient as createNodeRedis6, createCluster as createNodeRedis6Cluster } from "redis-v6";
import type { RedisClientLike } from "../src/index.js";

/** A client library and major version under test. */
export type Flavor = "ioredis@5" | "ioredis@6" | "redis@4" | "redis@5" | "redis@6";

export const flavors: readonly Flavor[] = ["ioredis@5", "ioredis@6", "redis@4", "redis@5", "redis@6"];

/** A connected client and how to let it go. */
export interface TestClient {
  readonly client: RedisClientLike;
  /** Runs any command (for assertions: TTLs, commandstats, SCRIPT FLUSH on servers we own). */
  command(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

interface IoredisConnection {
  on(event: "error", listener: (error: unknown) => void): unknown;
  call(command: string, ...args: string[]): Promise<unknown>;
  disconnect(): void;
}

function ioredisClient(client: IoredisConnection & RedisClientLike): TestClient {
  client.on("error", () => {}); // connection errors surface through the store
  return {
    client,
    command: ([name, ...args]) => client.call(name as string, ...args),
    async close() {
      client.disconnect();
    },
  };
}

interface NodeRedisConnection {
  on(event: "error", listener: (error: unknown) => void): unknown;
  connect(): Promise<unknown>;
  disconnect(): Promise<void>;
}

async function nodeRedisClient(
  client: NodeRedisConnection & RedisClientLike,
  command: (args: string[]) => Promise<unknown>,
): Promise<TestClient> {
  client.on("error", () => {}); // node-redis throws on an unhandled "error" event
  await client.connect();
  return {
    client,
    command,
    async close() {
      await client.disconnect().catch(() => {});
    },
  };
}

/** Client settings for a test (the same for ioredis 5 and 6). */
export type IoredisOptions = Ioredis5Options & Ioredis6Options;

/** Connects to one Redis server. `ioredis` options apply to ioredis clients only. */
export async function connectSingle(flavor: Flavor, url: string, ioredis: IoredisOptions = {}): Promise<TestClient> {
  switch (flavor) {
    case "ioredis@5":
      return ioredisClient(new (await import("ioredis")).Redis(url, ioredis));
    case "ioredis@6":
      return ioredisClient(new (await import("ioredis-v6")).Redis(url, ioredis));
    case "redis@4": {
      const client = (await import("redis-v4")).createClient({ url });
      return nodeRedisClient(client, (args) => client.sendCommand(args));
    }
    case "redis@5": {
      const client = (await import("redis")).createClient({ url });
      return nodeRedisClient(client, (args) => client.sendCommand(args));
    }
    case "redis@6": {
      const client = (await import("redis-v6")).createClient({ url });
      return nodeRedisClient(client, (args) => client.sendCommand(args));
    }
  }
}

/** Connects to a Redis Cluster through its masters' addresses ("127.0.0.1:port"). */
export async function connectCluster(flavor: Flavor, nodes: readonly string[]): Promise<TestClient> {
  const hosts = nodes.map((address) => {
    const [host, port] = address.split(":");
    return { host: host as string, port: Number(port) };
  });
  const rootNodes = nodes.map((address) => ({ url: `redis://${address}` }));
  switch (flavor) {
    case "ioredis@5":
      return ioredisClient(new (await import("ioredis")).Cluster(hosts));
    case "ioredis@6":
      return ioredisClient(new (await import("ioredis-v6")).Cluster(hosts));
    case "redis@4": {
      const client = (await import("redis-v4")).createCluster({ rootNodes });
      return nodeRedisClient(client, (args) => client.sendCommand(args[1], false, args));
    }
    case "redis@5": {
      const client = (await import("redis")).createCluster({ rootNodes });
      return nodeRedisClient(client, (args) => client.sendCommand(args[1], false, args));
    }
    case "redis@6": {
      const client = (await import("redis-v6")).createCluster({ rootNodes });
      return nodeRedisClient(client, (args) => client.sendCommand(args[1], false, args));
    }
  }
}
