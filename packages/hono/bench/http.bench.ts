// HTTP benchmark: `pnpm --filter @threadline/hono bench` (or `pnpm bench` at the root).
//
// Hono on @hono/node-server over loopback: bare Hono (the baseline), threadline with an
// unverified header and with the identity work a real app does (hono/jwt verifying a token),
// and the two cookie-session peers, @hono/session and hono-sessions. Each server runs in its own
// process and the load generator (autocannon) in another, so nothing measures itself.
//
// Every measurement sends the same fixed number of requests. Two measures per scenario:
// - server CPU per request (the server process's user+system time over the requests it served):
//   the cost of the app itself, the steady measure on a shared machine;
// - requests/s, as the client sees it. This moves with the neighbours (an empty middleware
//   measured anywhere from 102 % to 185 % of bare Hono), so each scenario runs right next to
//   bare Hono (alternately before and after) and is divided by that bare-Hono run.
// Every figure is the median over rounds with the min–max beside it; never a best round.
//
// Imports the BUILT packages (turbo builds them first): tsx compiles with keepNames, which wraps
// closures and would make library code look slower than it is.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { median, printTable, spread } from "@threadline/bench-kit";
import { type RedisServer, startRedisServer } from "@threadline/store-redis/testing";
import { credentialsOf, type Identity, type Scenario, scenarios, USER_HEADER } from "./apps.js";
import type { LoadConfig, LoadResult } from "./load.js";
import { REDIS_URL_VARIABLE } from "./redis.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 8_000);
const WARMUP_REQUESTS = 5_000;
const CONNECTIONS = 32;
const USERS = 1000;
const BASELINE = "bare Hono";
const IN_PROCESS_ROUNDS = 20;

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

/** Header and bearer scenarios send per-user headers; cookie scenarios sign each user in once for a cookie. */
async function signIn(url: string, identity: Identity): Promise<Array<Record<string, string>>> {
  const users: Array<Record<string, string>> = [];
  for (let index = 0; index < USERS; index++) {
    if (identity !== "cookie") {
      users.push(await credentialsOf(identity, index));
      continue;
    }
    const response = await fetch(`${url}/login`, { headers: { [USER_HEADER]: `user-${index}` } });
    const cookies = response.headers.getSetCookie().map((cookie) => cookie.split(";")[0]);
    if (!response.ok || cookies.length === 0) throw new Error(`sign-in failed: ${response.status}`);
    users.push({ cookie: cookies.join("; ") });
  }
  return users;
}

interface Measurement extends LoadResult {
  cpuMicrosPerRequest: number;
}

async function measure(server: RunningServer, directory: string, requests: number): Promise<Measurement> {
  const config: LoadConfig = { url: server.url, connections: CONNECTIONS, requests, users: server.users };
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

const percent = (value: number) => `${(value * 100).toFixed(0)} %`;
const micros = (value: number) => `${value.toFixed(1)} µs`;

async function main(): Promise<void> {
  const redis = await startRedisServer();

  const directory = mkdtempSync(join(tmpdir(), "threadline-hono-bench-"));
  const servers: RunningServer[] = [];
  try {
    for (const scenario of scenarios) servers.push(await RunningServer.start(scenario, redis));
    for (const server of servers) await measure(server, directory, WARMUP_REQUESTS); // JIT, sessions created

    const byScenario = new Map(scenarios.map((scenario) => [scenario.name, [] as Measurement[]]));
    // Paired ratios to bare Hono; bare Hono's own row is 1 by definition.
    const rateRatios = new Map(scenarios.map((scenario) => [scenario.name, [] as number[]]));
    const cpuRatios = new Map(scenarios.map((scenario) => [scenario.name, [] as number[]]));
    const baseline = servers.find((server) => server.scenario.name === BASELINE) as RunningServer;
    const others = servers.filter((server) => server !== baseline);
    for (let round = 0; round < ROUNDS; round++) {
      // Each scenario is measured right next to bare Hono, alternately before and after it, so
      // a neighbour's load that comes and goes hits both sides of the ratio alike.
      for (let offset = 0; offset < others.length; offset++) {
        const server = others[(round + offset) % others.length] as RunningServer;
        const [first, second] = round % 2 === 0 ? [baseline, server] : [server, baseline];
        const firstResult = await measure(first, directory, REQUESTS);
        const secondResult = await measure(second, directory, REQUESTS);
        const [bare, result] = first === baseline ? [firstResult, secondResult] : [secondResult, firstResult];
        byScenario.get(BASELINE)?.push(bare);
        byScenario.get(server.scenario.name)?.push(result);
        rateRatios.get(BASELINE)?.push(1);
        cpuRatios.get(BASELINE)?.push(1);
        rateRatios.get(server.scenario.name)?.push(result.requestsPerSecond / bare.requestsPerSecond);
        cpuRatios.get(server.scenario.name)?.push(result.cpuMicrosPerRequest / bare.cpuMicrosPerRequest);
        process.stderr.write(
          `round ${round + 1}/${ROUNDS} ${server.scenario.name}: ${result.requestsPerSecond.toFixed(0)} req/s` +
            ` (bare ${bare.requestsPerSecond.toFixed(0)}), ${result.cpuMicrosPerRequest.toFixed(1)} µs CPU/request` +
            ` (bare ${bare.cpuMicrosPerRequest.toFixed(1)})\n`,
        );
      }
    }

    const valuesOf = (name: string, pick: (measurement: Measurement) => number) =>
      (byScenario.get(name) ?? []).map(pick);
    console.log(
      `\n@threadline/hono — GET / on @hono/node-server over loopback; ${CONNECTIONS} connections, ${USERS} users;` +
        ` ${ROUNDS} rounds of ${REQUESTS} requests per scenario, each next to bare Hono; median (min–max); Node ${process.version}\n`,
    );
    printTable(
      ["server", "per request", "server CPU/request", "CPU vs bare Hono", "requests/s", "rate vs bare Hono", "p99"],
      scenarios.map((scenario) => [
        scenario.name,
        scenario.work,
        spread(
          valuesOf(scenario.name, (measurement) => measurement.cpuMicrosPerRequest),
          micros,
        ),
        spread(cpuRatios.get(scenario.name) ?? [], percent),
        spread(
          valuesOf(scenario.name, (measurement) => measurement.requestsPerSecond),
          (value) => Math.round(value).toLocaleString("en"),
        ),
        spread(rateRatios.get(scenario.name) ?? [], percent),
        `${median(valuesOf(scenario.name, (measurement) => measurement.latencyP99)).toFixed(0)} ms`,
      ]),
    );
    console.log(
      "\nCPU vs bare Hono: this CPU/request ÷ bare Hono's in the same pair. Rate vs bare Hono: this requests/s ÷ bare Hono's.",
    );

    // With the load generator gone: each app called inside its own server process, no socket.
    // The servers take turns round by round, so a disturbance hits all of them alike.
    const inProcess = new Map(servers.map((server) => [server.scenario.name, [] as number[]]));
    for (let round = 0; round < IN_PROCESS_ROUNDS; round++) {
      for (const server of servers) {
        const { microsPerRequest } = await server.ask<{ microsPerRequest: number }>("in-process");
        inProcess.get(server.scenario.name)?.push(microsPerRequest);
      }
    }
    const bareCosts = inProcess.get(BASELINE) ?? [];
    console.log(
      `\nIn process (app.fetch with prebuilt requests, inside each server process, no socket), ${IN_PROCESS_ROUNDS} interleaved rounds of ${USERS} requests; median (min–max):\n`,
    );
    printTable(
      ["server", "time/request", "added to bare Hono (round by round)"],
      scenarios.map((scenario) => {
        const costs = inProcess.get(scenario.name) ?? [];
        const added = costs.map((cost, round) => cost - (bareCosts[round] ?? Number.NaN));
        return [
          scenario.name,
          spread(costs, (value) => `${value.toFixed(2)} µs`),
          spread(added, (value) => `${value.toFixed(2)} µs`),
        ];
      }),
    );
  } finally {
    for (const server of servers) await server.stop();
    await redis.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
