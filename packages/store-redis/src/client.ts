// One small interface over the Redis clients people already have. The store never imports a
// client library: it recognises the client by shape, so neither is needed at run time.

/**
 * The part of an ioredis `Redis` or `Cluster` (v5, v6) the store uses. Any ioredis client
 * satisfies it.
 */
export interface IoredisLikeClient {
  evalsha(sha: string, numberOfKeys: number, ...keysAndArguments: string[]): Promise<unknown>;
  eval(script: string, numberOfKeys: number, ...keysAndArguments: string[]): Promise<unknown>;
}

/**
 * The part of a node-redis client or cluster (`createClient`, `createCluster`; v4 to v6) the
 * store uses. Any node-redis client satisfies it.
 */
export interface NodeRedisLikeClient {
  /** Only recognised: the store sends EVALSHA through `sendCommand`. */
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** `sendCommand(args)` on a client, `sendCommand(firstKey, isReadonly, args)` on a cluster. */
  sendCommand(...args: never[]): Promise<unknown>;
}

/** A connected ioredis or node-redis client, single node or cluster. */
export type RedisClientLike = IoredisLikeClient | NodeRedisLikeClient;

/** Which library and topology the store recognised. */
export type ClientKind = "ioredis" | "ioredis-cluster" | "node-redis" | "node-redis-cluster";

/** One master to SCAN, for listing. */
export interface ScanTarget {
  readonly address: string;
  /** One SCAN step: the next cursor ("0" when done) and the keys of this step. */
  scan(cursor: string, pattern: string, count: number): Promise<[string, string[]]>;
}

/** What the store needs from a client: scripts by SHA or source, and the masters to SCAN. */
export interface ScriptTransport {
  readonly kind: ClientKind;
  evalSha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
  /** Every master, ordered by address so a listing cursor can name one by position. */
  scanTargets(): Promise<ScanTarget[]>;
}

type Method = (...args: never[]) => unknown;

function has<K extends string>(value: object, key: K): value is Record<K, Method> {
  return typeof (value as Record<string, unknown>)[key] === "function";
}

/** Recognises the client, or returns `undefined` when it is neither ioredis nor node-redis. */
export function transportFor(client: unknown): ScriptTransport | undefined {
  if (typeof client !== "object" || client === null) return undefined;
  if (has(client, "evalsha") && has(client, "eval")) return ioredisTransport(client as unknown as IoredisClient);
  if (has(client, "evalSha") && has(client, "sendCommand"))
    return nodeRedisTransport(client as unknown as NodeRedisClient);
  return undefined;
}

// ---- ioredis ----------------------------------------------------------------------------

interface IoredisNode {
  scan(cursor: string, ...args: Array<string | number>): Promise<[string, string[]]>;
  options?: { host?: string; port?: number; keyPrefix?: string };
}

interface IoredisClient extends IoredisLikeClient, IoredisNode {
  isCluster?: boolean;
  nodes?(role: "master"): IoredisNode[];
  options?: { host?: string; port?: number; keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
}

function ioredisTransport(client: IoredisClient): ScriptTransport {
  const isCluster = client.isCluster === true && typeof client.nodes === "function";
  // ioredis prefixes the keys of every command (EVALSHA's KEYS included) but not SCAN's
  // pattern or results, so listing adds and strips the client's own prefix.
  const clientPrefix = client.options?.keyPrefix || client.options?.redisOptions?.keyPrefix || "";
  const target = (node: IoredisNode, address: string): ScanTarget => ({
    address,
    async scan(cursor, pattern, count) {
      const [next, keys] = await node.scan(cursor, "MATCH", clientPrefix + pattern, "COUNT", count);
      return [String(next), clientPrefix ? keys.map((key) => String(key).slice(clientPrefix.length)) : keys];
    },
  });
  return {
    kind: isCluster ? "ioredis-cluster" : "ioredis",
    evalSha: (sha, keys, args) => client.evalsha(sha, keys.length, ...keys, ...args),
    eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
    async scanTargets() {
      if (!isCluster) return [target(client, "")];
      const masters = client.nodes?.("master") ?? [];
      return masters
        .map((node) => target(node, `${node.options?.host ?? ""}:${node.options?.port ?? ""}`))
        .sort(byAddress);
    },
  };
}

// ---- node-redis -------------------------------------------------------------------------

interface NodeRedisNode {
  sendCommand(args: string[]): Promise<unknown>;
}

interface NodeRedisShard {
  address?: string;
  host?: string;
  port?: number;
}

interface NodeRedisClient extends NodeRedisLikeClient {
  sendCommand(...args: unknown[]): Promise<unknown>;
  masters?: NodeRedisShard[];
  nodeClient?(shard: NodeRedisShard): NodeRedisNode | Promise<NodeRedisNode>;
}

function nodeRedisTransport(client: NodeRedisClient): ScriptTransport {
  const isCluster = typeof client.nodeClient === "function" && Array.isArray(client.masters);
  // Raw commands rather than the evalSha() helper: node-redis 4's cluster routes evalSha() by
  // the wrong argument (a random node, then MOVED), and raw replies skip per-version transforms.
  const send = isCluster
    ? (args: string[], firstKey: string | undefined) => client.sendCommand(firstKey, false, args)
    : (args: string[]) => client.sendCommand(args);
  const target = (node: NodeRedisNode, address: string): ScanTarget => ({
    address,
    async scan(cursor, pattern, count) {
      const reply = await node.sendCommand(["SCAN", cursor, "MATCH", pattern, "COUNT", String(count)]);
      const [next, keys] = reply as [unknown, unknown[]];
      return [String(next), keys.map(String)];
    },
  });
  return {
    kind: isCluster ? "node-redis-cluster" : "node-redis",
    evalSha: (sha, keys, args) => send(["EVALSHA", sha, String(keys.length), ...keys, ...args], keys[0]),
    eval: (source, keys, args) => send(["EVAL", source, String(keys.length), ...keys, ...args], keys[0]),
    async scanTargets() {
      if (!isCluster) return [target(client as NodeRedisNode, "")];
      const targets = await Promise.all(
        (client.masters ?? []).map(async (shard) => {
          const node = await client.nodeClient?.(shard);
          return target(node as NodeRedisNode, shard.address ?? `${shard.host ?? ""}:${shard.port ?? ""}`);
        }),
      );
      return targets.sort(byAddress);
    },
  };
}

function byAddress(left: ScanTarget, right: ScanTarget): number {
  return left.address < right.address ? -1 : left.address > right.address ? 1 : 0;
}
