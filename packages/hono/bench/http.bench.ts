// HTTP benchmark: `pnpm --filter @threadline/hono bench` (or `pnpm bench` at the root).
//
// Hono on @hono/node-server over loopback: bare Hono (the baseline), Hono + threadline with the
// memory store (and Redis when available), and Hono with the two cookie-session peers,
// @hono/session and hono-sessions. Each server runs in its own process and the load generator
// (autocannon) in another, so nothing measures itself.
//
// Two measures per scenario:
// - requests/s, as the client sees it. On a shared machine this moves with the neighbours, so
//   each scenario runs right next to bare Hono (alternately before and after), and its rate is
//   divided by that bare-Hono rate (median over rounds);
// - server CPU per request (the server process's user+system time over the requests it served):
//   the cost of the middleware itself, steady even when the machine is busy.
//
// Imports the BUILT packages (turbo builds them first): tsx compiles with keepNames, which wraps
// closures and would make library code look slower than it is.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { median, printTable } from "@threadline/bench-kit";
import { type RedisServer, startRedisServer } from "@threadline/store-redis/testing";
import { type Identity, type Scenario, scenarios, USER_HEADER } from "./apps.js";
import type { LoadConfig, LoadResult } from "./load.js";
import { REDIS_URL_VARIABLE } from "./redis.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP_SECONDS = 1;
const CONNECTIONS = 32;
const USERS = 1000;
const BASELINE = "bare Hono";
const IN_PROCESS_ROUNDS = 40;

const here = fileURLToPath(new URL(".", import.meta.url));

/** Runs a TypeScript file of this folder in a new Node process (tsx as a loader). */
function spawnScript(
  file: string,
  args: string[],
  stdin: "pipe" | "ignore",
  environment: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", join(here, file), ...args], {
    stdio: [stdin, "pipe", "inherit"],
    env: { ...process.env, ...environment },
  });
}

interface ServerStats {
  cpuMicros: number;
  requests: number;
}

class RunningServer {
  readonly url: string;
  /** Request headers of each simulated user. */
  users: Array<Record<string, string>> = [];
  readonly #process: ChildProcess;
  readonly #lines: Interface;

  private constructor(
    readonly scenario: Scenario,
    child: ChildProcess,
    lines: Interface,
    port: number,
  ) {
    this.#process = child;
    this.#lines = lines;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(scenario: Scenario, redis: RedisServer): Promise<RunningServer> {
    const environment: Record<string, string> = { [REDIS_URL_VARIABLE]: redis.url };
    const child = spawnScript("serve.ts", [scenario.name], "pipe", environment);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const port = await new Promise<number>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`${scenario.name}: server exited with ${code}`)));
      lines.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    });
    const server = new RunningServer(scenario, child, lines, port);
    server.users = await signIn(server.url, scenario.identity);
    return server;
  }

  /** Sends a command to the server process and reads its one-line JSON answer. */
  ask<T>(command: "stats" | "in-process"): Promise<T> {
    const answer = new Promise<T>((resolve) => this.#lines.once("line", (line) => resolve(JSON.parse(line) as T)));
    this.#process.stdin?.write(`${command}\n`);
    return answer;
  }

  /** Closes the server's stdin, its signal to shut down, and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.#process.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#process.once("exit", resolve));
    this.#process.stdin?.end();
    await exited;
  }
}

/** Header scenarios name the user in a header; cookie scenarios sign each user in once for a cookie. */
async function signIn(url: string, identity: Identity): Promise<Array<Record<string, string>>> {
  const users: Array<Record<string, string>> = [];
  for (let index = 0; index < USERS; index++) {
    const header = { [USER_HEADER]: `user-${index}` };
    if (identity === "header") {
      users.push(header);
      continue;
    }
    const response = await fetch(`${url}/login`, { headers: header });
    const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(";")[0]);
    if (!response.ok || cookies.length === 0) throw new Error(`sign-in failed: ${response.status}`);
    users.push({ cookie: cookies.join("; ") });
  }
  return users;
}

interface Measurement extends LoadResult {
  cpuMicrosPerRequest: number;
}

async function measure(server: RunningServer, directory: string, seconds: number): Promise<Measurement> {
  const config: LoadConfig = { url: server.url, connections: CONNECTIONS, seconds, users: server.users };
  const configPath = join(directory, "load.json");
  writeFileSync(configPath, JSON.stringify(config));
  const before = await server.ask<ServerStats>("stats");
  const child = spawnScript("load.ts", [configPath], "ignore");
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const after = await server.ask<ServerStats>("stats");
  if (code !== 0) throw new Error(`${server.scenario.name}: load generator exited with ${code}`);
  const result = JSON.parse(output) as LoadResult;
  if (result.failures > 0) throw new Error(`${server.scenario.name}: ${result.failures} failed requests`);
  return { ...result, cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / (after.requests - before.requests) };
}

async function main(): Promise<void> {
  const redis = await startRedisServer();

  const directory = mkdtempSync(join(tmpdir(), "threadline-hono-bench-"));
  const servers: RunningServer[] = [];
  try {
    for (const scenario of scenarios) servers.push(await RunningServer.start(scenario, redis));
    for (const server of servers) await measure(server, directory, WARMUP_SECONDS); // JIT, sessions created

    const byScenario = new Map(scenarios.map((scenario) => [scenario.name, [] as Measurement[]]));
    // Paired ratios to bare Hono; bare Hono's own row is 1 by definition.
    const rateRatios = new Map(scenarios.map((scenario) => [scenario.name, scenario.name === BASELINE ? [1] : []]));
    const cpuRatios = new Map(scenarios.map((scenario) => [scenario.name, scenario.name === BASELINE ? [1] : []]));
    const baseline = servers.find((server) => server.scenario.name === BASELINE) as RunningServer;
    const others = servers.filter((server) => server !== baseline);
    for (let round = 0; round < ROUNDS; round++) {
      // Each scenario is measured right next to bare Hono, alternately before and after it, so
      // a neighbour's load that comes and goes hits both sides of the ratio alike.
      for (let offset = 0; offset < others.length; offset++) {
        const server = others[(round + offset) % others.length] as RunningServer;
        const [first, second] = round % 2 === 0 ? [baseline, server] : [server, baseline];
        const firstResult = await measure(first, directory, SECONDS);
        const secondResult = await measure(second, directory, SECONDS);
        const [bare, result] = first === baseline ? [firstResult, secondResult] : [secondResult, firstResult];
        byScenario.get(BASELINE)?.push(bare);
        byScenario.get(server.scenario.name)?.push(result);
        rateRatios.get(server.scenario.name)?.push(result.requestsPerSecond / bare.requestsPerSecond);
        cpuRatios.get(server.scenario.name)?.push(bare.cpuMicrosPerRequest / result.cpuMicrosPerRequest);
        process.stderr.write(
          `round ${round + 1}/${ROUNDS} ${server.scenario.name}: ${result.requestsPerSecond.toFixed(0)} req/s` +
            ` (bare ${bare.requestsPerSecond.toFixed(0)}), ${result.cpuMicrosPerRequest.toFixed(1)} µs CPU/request` +
            ` (bare ${bare.cpuMicrosPerRequest.toFixed(1)})\n`,
        );
      }
    }

    const medianOf = (name: string, pick: (measurement: Measurement) => number) =>
      median((byScenario.get(name) ?? []).map(pick));
    console.log(
      `\n@threadline/hono — GET / on @hono/node-server over loopback; ${CONNECTIONS} connections, ${USERS} users;` +
        ` ${ROUNDS} rounds of ${SECONDS} s next to bare Hono, medians; Node ${process.version}\n`,
    );
    const percent = (values: number[] | undefined) => `${(median(values ?? []) * 100).toFixed(1)} %`;
    printTable(
      ["server", "requests/s", "vs bare Hono", "server CPU/request", "vs bare Hono (CPU)", "p99 latency"],
      scenarios.map((scenario) => [
        scenario.name,
        Math.round(medianOf(scenario.name, (measurement) => measurement.requestsPerSecond)).toLocaleString("en"),
        percent(rateRatios.get(scenario.name)),
        `${medianOf(scenario.name, (measurement) => measurement.cpuMicrosPerRequest).toFixed(1)} µs`,
        percent(cpuRatios.get(scenario.name)),
        `${medianOf(scenario.name, (measurement) => measurement.latencyP99).toFixed(0)} ms`,
      ]),
    );
    console.log(
      '\n"vs bare Hono (CPU)" is the throughput a CPU-bound server would keep: bare CPU/request ÷ this CPU/request.',
    );

    // With the load generator gone: each app called inside its own server process, no socket.
    // The servers take turns round by round; each keeps its best round, the least disturbed.
    const best = new Map(servers.map((server) => [server.scenario.name, Number.POSITIVE_INFINITY]));
    for (let round = 0; round < IN_PROCESS_ROUNDS; round++) {
      for (const server of servers) {
        const { microsPerRequest } = await server.ask<{ microsPerRequest: number }>("in-process");
        best.set(server.scenario.name, Math.min(best.get(server.scenario.name) ?? microsPerRequest, microsPerRequest));
      }
    }
    const bareCost = best.get(BASELINE) ?? Number.NaN;
    console.log(
      `\nIn process (app.fetch with prebuilt requests, inside each server process, no socket), best of ${IN_PROCESS_ROUNDS} rounds of ${USERS} requests:\n`,
    );
    printTable(
      ["server", "time/request", "added to bare Hono"],
      scenarios.map((scenario) => {
        const cost = best.get(scenario.name) ?? Number.NaN;
        return [scenario.name, `${cost.toFixed(2)} µs`, `${(cost - bareCost).toFixed(2)} µs`];
      }),
    );
  } finally {
    for (const server of servers) await server.stop();
    await redis.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
