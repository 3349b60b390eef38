// The load generator, in its own process: `tsx bench/load.ts <config.json>`. Sends a fixed
// number of requests with autocannon to one loopback server and prints one JSON line.
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

export interface LoadConfig {
  url: string;
  connections: number;
  /** How many requests to send: a fixed count, so CPU per request is measured over equal work. */
  requests: number;
  /** Headers of each simulated user; requests go to the users in turn. */
  users: Array<Record<string, string>>;
}

export interface LoadResult {
  requestsPerSecond: number;
  latencyP99: number;
  failures: number;
}

const configPath = process.argv[2];
if (configPath === undefined) throw new Error("usage: tsx bench/load.ts <config.json>");
const config = JSON.parse(readFileSync(configPath, "utf8")) as LoadConfig;

let next = 0;
const result = await autocannon({
  url: config.url,
  connections: config.connections,
  amount: config.requests,
  requests: [
    {
      method: "GET",
      path: "/",
      setupRequest: (request) => {
        const headers = config.users[next++ % config.users.length];
        return { ...request, headers: { ...request.headers, ...headers } };
      },
    },
  ],
});
const output: LoadResult = {
  requestsPerSecond: result["2xx"] / result.duration,
  latencyP99: result.latency.p99,
  failures: result.errors + result.timeouts + result.non2xx,
};
process.stdout.write(`${JSON.stringify(output)}\n`);
