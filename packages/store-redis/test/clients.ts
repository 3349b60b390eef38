// Real clients of every supported library, single node and cluster, as users create them.
// Libraries load on first use, so a race worker only pays for the one it needs.
import type { RedisOptions as Ioredis5Options } from "ioredis";
import type { RedisOptions as Ioredis6Options } from "ioredis-v6";
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

/** How a test connects: extra ioredis options, or the settings the README recommends. */
export interface ConnectOptions {
  ioredis?: IoredisOptions;
  /** The README's fail-fast settings: no offline queue, one retry, connected before use. */
  recommended?: boolean;
}

/** The README's recommended ioredis settings. */
export const recommendedIoredis: IoredisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  lazyConnect: true,
};

/** Connects to one Redis server. */
export async function connectSingle(flavor: Flavor, url: string, options: ConnectOptions = {}): Promise<TestClient> {
  const ioredis = { ...(options.recommended ? recommendedIoredis : {}), ...options.ioredis };
  const nodeRedis = { url, ...(options.recommended ? { disableOfflineQueue: true } : {}) };
  switch (flavor) {
    case "ioredis@5": {
      const client = new (await import("ioredis")).Redis(url, ioredis);
      if (options.recommended) await client.connect();
      return ioredisClient(client);
    }
    case "ioredis@6": {
      const client = new (await import("ioredis-v6")).Redis(url, ioredis);
      if (options.recommended) await client.connect();
      return ioredisClient(client);
    }
    case "redis@4": {
      const client = (await import("redis-v4")).createClient(nodeRedis);
      return nodeRedisClient(client, (args) => client.sendCommand(args));
    }
    case "redis@5": {
      const client = (await import("redis")).createClient(nodeRedis);
      return nodeRedisClient(client, (args) => client.sendCommand(args));
    }
    case "redis@6": {
      const client = (await import("redis-v6")).createClient(nodeRedis);
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
