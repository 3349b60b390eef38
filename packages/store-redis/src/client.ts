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

/**
 * Replies of a pipeline or transaction, one per command, in order. A command Redis refused is an
 * `Error` in its place; a connection failure rejects the whole call instead.
 */
export type Replies = unknown[];

/** One master to SCAN, for listing. */
export interface ScanTarget {
  readonly address: string;
  /** One SCAN step: the next cursor ("0" when done) and the keys of this step. */
  scan(cursor: string, pattern: string, count: number): Promise<[string, string[]]>;
  /** Sends commands to this master in one write and gathers their replies (not atomic). */
  pipeline(commands: string[][]): Promise<Replies>;
}

/** What the store needs from a client: scripts by SHA or source, transactions, and the masters to SCAN. */
export interface ScriptTransport {
  readonly kind: ClientKind;
  evalSha(sha: string, keys: string[], args: string[]): Promise<unknown>;
  eval(source: string, keys: string[], args: string[]): Promise<unknown>;
  /**
   * Runs commands as one MULTI/EXEC, one round trip: nothing else runs on the server between
   * them. Every key must be in the slot of `routingKey` (on a cluster, the node that owns it).
   */
  transaction(commands: string[][], routingKey: string): Promise<Replies>;
  /** Every master, ordered by address so a listing cursor can name one by position. */
  scanTargets(): Promise<ScanTarget[]>;
}

/**
 * A command failed on a client the app has not connected, or has closed: the app's mistake, not
 * an outage. Carries what to do about it and the client's own error.
 */
export class ClientNotConnected extends Error {
  override readonly name = "ClientNotConnected";
  readonly advice: string;
  readonly original: unknown;
  constructor(advice: string, original: unknown) {
    super(advice);
    this.advice = advice;
    this.original = original;
  }
}

/**
 * Wraps a client call so that, when it fails and `mistake()` (asked before sending, a property
 * read) named a reason, the failure becomes a {@link ClientNotConnected}.
 */
function checked<A extends unknown[], R>(
  mistake: () => string | undefined,
  call: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return (...args) => {
    const advice = mistake();
    if (advice === undefined) return call(...args);
    try {
      return call(...args).catch((error: unknown) => {
        throw new ClientNotConnected(advice, error);
      });
    } catch (error) {
      return Promise.reject(new ClientNotConnected(advice, error));
    }
  };
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

type IoredisReplies = Array<[Error | null, unknown]> | null;

interface IoredisNode {
  scan(cursor: string, ...args: Array<string | number>): Promise<[string, string[]]>;
  pipeline(commands: string[][]): { exec(): Promise<IoredisReplies> };
  options?: { host?: string; port?: number; keyPrefix?: string };
}

interface IoredisClient extends IoredisLikeClient, IoredisNode {
  isCluster?: boolean;
  status?: string;
  nodes?(role: "master"): IoredisNode[];
  multi(commands: string[][]): { exec(): Promise<IoredisReplies> };
  options?: {
    host?: string;
    port?: number;
    keyPrefix?: string;
    lazyConnect?: boolean;
    redisOptions?: { keyPrefix?: string };
  };
}

// ioredis's pipeline() and multi() call the client's method of each command's name: lower case.
function lowerCaseName(command: string[]): string[] {
  const copy = command.slice();
  copy[0] = (copy[0] as string).toLowerCase();
  return copy;
}

function ioredisReplies(replies: IoredisReplies): Replies {
  // null only when a WATCHed key changed, which the store never does.
  if (replies === null) throw new Error("the transaction was aborted");
  return replies.map(([error, reply]) => error ?? reply);
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
    pipeline: async (commands) => ioredisReplies(await node.pipeline(commands.map(lowerCaseName)).exec()),
  });
  // "wait": created with lazyConnect and never connected. With the offline queue on, the first
  // command connects and waits; with it off (the recommended settings) that command fails.
  const mistake = () =>
    client.status === "wait"
      ? "The ioredis client was created with lazyConnect and is not connected yet: call `await client.connect()` before using the store."
      : undefined;
  return {
    kind: isCluster ? "ioredis-cluster" : "ioredis",
    evalSha: checked(mistake, (sha: string, keys: string[], args: string[]) =>
      client.evalsha(sha, keys.length, ...keys, ...args),
    ),
    eval: checked(mistake, (source: string, keys: string[], args: string[]) =>
      client.eval(source, keys.length, ...keys, ...args),
    ),
    transaction: checked(mistake, async (commands: string[][]) =>
      ioredisReplies(await client.multi(commands.map(lowerCaseName)).exec()),
    ),
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

interface NodeRedisMulti {
  // Client: addCommand(args). Cluster: addCommand(firstKey, args) in v4, addCommand(firstKey, isReadonly, args) since v5.
  addCommand(...args: unknown[]): NodeRedisMulti;
  exec(): Promise<unknown[]>;
}

interface NodeRedisShard {
  address?: string;
  host?: string;
  port?: number;
}

interface NodeRedisClient extends NodeRedisLikeClient {
  sendCommand(...args: unknown[]): Promise<unknown>;
  multi(routing?: string): NodeRedisMulti;
  isOpen?: boolean;
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
    // node-redis writes the commands of one tick as one batch: a pipeline without asking.
    pipeline: (commands) => gather(commands.map((command) => node.sendCommand(command))),
  });
  // isOpen is false before connect() and after close/quit/disconnect, and stays true while the
  // client reconnects on its own: false means the app has to act, not that Redis is down.
  const mistake = () =>
    client.isOpen === false
      ? "The node-redis client is not connected: call `await client.connect()` before using the store (and do not use it after `close()`, `quit()` or `disconnect()`)."
      : undefined;
  return {
    kind: isCluster ? "node-redis-cluster" : "node-redis",
    evalSha: checked(mistake, (sha: string, keys: string[], args: string[]) =>
      send(["EVALSHA", sha, String(keys.length), ...keys, ...args], keys[0]),
    ),
    eval: checked(mistake, (source: string, keys: string[], args: string[]) =>
      send(["EVAL", source, String(keys.length), ...keys, ...args], keys[0]),
    ),
    transaction: checked(mistake, async (commands: string[][], routingKey: string) => {
      const multi = isCluster ? client.multi(routingKey) : client.multi();
      // Routed by `routingKey` given to multi(), so the per-command first key stays undefined.
      const clusterV4 = isCluster && multi.addCommand.length < 4;
      for (const command of commands) {
        if (!isCluster) multi.addCommand(command);
        else if (clusterV4) multi.addCommand(undefined, command);
        else multi.addCommand(undefined, false, command);
      }
      try {
        return await multi.exec();
      } catch (error) {
        // A command Redis refused fails exec() with MultiErrorReply, which carries every reply.
        const replies = (error as { replies?: unknown }).replies;
        if (Array.isArray(replies)) return replies;
        throw error;
      }
    }),
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

/**
 * `Promise.all` of the replies, with a command Redis refused as its `Error` in place, and any
 * other failure (the connection) rejecting the whole. One reaction per reply: `.catch(asReply)`
 * on each and then `Promise.all` cost two promises and two microtasks per command, a visible
 * share of a listing page.
 */
function gather(replies: Array<Promise<unknown>>): Promise<Replies> {
  return new Promise((resolve, reject) => {
    const results: Replies = new Array(replies.length);
    let waiting = replies.length;
    if (waiting === 0) resolve(results);
    replies.forEach((reply, index) => {
      const settle = (value: unknown) => {
        results[index] = value;
        if (--waiting === 0) resolve(results);
      };
      reply.then(settle, (error: unknown) => {
        try {
          settle(asReply(error));
        } catch (failure) {
          reject(failure);
        }
      });
    });
  });
}

function asReply(error: unknown): unknown {
  if (error instanceof Error && /ReplyError|ErrorReply|SimpleError|BlobError/.test(error.constructor?.name ?? ""))
    return error;
  throw error;
}

function byAddress(left: ScanTarget, right: ScanTarget): number {
  return left.address < right.address ? -1 : left.address > right.address ? 1 : 0;
}
