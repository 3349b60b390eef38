// Starts and stops real redis-server processes on free loopback ports, for tests and
// benchmarks (`@threadline/store-redis/testing`). Nothing here ever talks to a Redis it did not start.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const host = "127.0.0.1";

/** A redis-server this process started. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** The running process, or undefined after `kill`/`stop`. */
  readonly pid: number | undefined;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** SIGSTOP: the socket stays open but nothing answers. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Starts a fresh process on the same port (after `kill`). */
  restart(): Promise<void>;
  /** Graceful shutdown and removal of its working directory. */
  stop(): Promise<void>;
}

/** A port nothing listens on now (and, with `clusterBus`, whose +10000 bus port is free too). */
export async function freePort(clusterBus = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(0);
    if (!clusterBus) return port;
    if (port + 10_000 < 65_536 && (await isFree(port + 10_000))) return port;
  }
  throw new Error("no free loopback port found");
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : port));
    });
  });
}

async function isFree(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch {
    return false;
  }
}

/** Sends one inline command over a raw socket and returns the raw reply (no client library needed). */
export function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from ${host}:${port}`));
    }, timeoutMs);
    socket.on("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      if (isComplete(reply)) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

// A simple reply (+OK, -ERR, :1) ends at its first CRLF; a bulk reply ($n) after n more bytes.
function isComplete(reply: string): boolean {
  const headerEnd = reply.indexOf("\r\n");
  if (headerEnd === -1) return false;
  if (!reply.startsWith("$")) return true;
  const length = Number(reply.slice(1, headerEnd));
  return length < 0 || Buffer.byteLength(reply) >= headerEnd + 2 + length + 2;
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const running = new Set<ChildProcess>();
// If the test process dies, do not leave servers behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Starts a redis-server with nothing on disk on a free loopback port (or the given one). */
export async function startRedisServer(options: { port?: number; cluster?: boolean } = {}): Promise<RedisServer> {
  // A free port can be taken by someone else before redis-server binds it: try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(options.port ?? (await freePort(options.cluster)), options.cluster === true);
    } catch (error) {
      if (options.port !== undefined || attempt === 3) throw error;
    }
  }
}

async function startOn(port: number, cluster: boolean): Promise<RedisServer> {
  const directory = mkdtempSync(join(tmpdir(), "threadline-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    host,
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    directory,
    "--loglevel",
    "warning",
    ...(cluster ? ["--cluster-enabled", "yes", "--cluster-node-timeout", "5000"] : []),
  ];
  let child: ChildProcess | undefined;

  async function launch(): Promise<void> {
    const started = spawn("redis-server", args, { stdio: "ignore" });
    running.add(started);
    started.once("exit", () => running.delete(started));
    child = started;
    const deadline = Date.now() + 10_000;
    while (!(await rawCommand(port, "PING", 200).catch(() => "")).startsWith("+PONG")) {
      if (started.exitCode !== null) throw new Error(`redis-server could not start on port ${port}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for redis-server on ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // Make sure the server answering is ours, never one that already held the port.
    const info = await rawCommand(port, "INFO server");
    if (!info.includes(`process_id:${started.pid}\r\n`)) {
      started.kill("SIGKILL");
      throw new Error(`port ${port} is held by another Redis; not using it`);
    }
  }

  async function exit(signal: NodeJS.Signals): Promise<void> {
    const current = child;
    child = undefined;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise((resolve) => current.once("exit", resolve));
    current.kill(signal);
    await exited;
  }

  await launch();
  return {
    port,
    url: `redis://${host}:${port}`,
    get pid() {
      return child?.pid;
    },
    kill: () => exit("SIGKILL"),
    pause() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
    restart: launch,
    async stop() {
      child?.kill("SIGCONT");
      await exit("SIGTERM");
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of `masters` masters (no replicas), all slots assigned and state ok. */
export interface RedisCluster {
  readonly nodes: RedisServer[];
  stop(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  // Sequentially: each port is picked free while the previous servers already hold theirs.
  for (let index = 0; index < masters; index++) nodes.push(await startRedisServer({ cluster: true }));
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    const addresses = nodes.map((node) => `${host}:${node.port}`);
    await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
    for (const node of nodes) {
      await waitUntil(
        async () => (await rawCommand(node.port, "CLUSTER INFO")).includes("cluster_state:ok"),
        `cluster state ok on ${node.port}`,
        30_000,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, stop };
}
