// One benchmark server in its own process: `tsx bench/serve.ts "<scenario name>"`.
// Prints `{"port":N}` once listening on a free loopback port, then answers commands on stdin,
// one JSON line each:
// - `stats`: `{"cpuMicros":…,"requests":…}`, this process's CPU time and requests served so far;
// - `in-process`: `{"microsPerRequest":…}`, one round of the app called without a socket.
// Exits when its stdin closes (the orchestrator ended or died), so no server outlives it.
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { serve } from "@hono/node-server";
import { scenarios } from "./apps.js";
import { inProcessRounds } from "./in-process.js";
import { redisStoreFromEnvironment } from "./redis.js";

const name = process.argv[2];
const scenario = scenarios.find((candidate) => candidate.name === name);
if (scenario === undefined) throw new Error(`unknown scenario ${String(name)}`);

const redis = scenario.name.includes("Redis") ? redisStoreFromEnvironment() : undefined;
const app = scenario.build({ redisStore: redis?.store });
let requests = 0;
const server = serve(
  {
    fetch: (request) => {
      requests++;
      return app.fetch(request);
    },
    hostname: "127.0.0.1",
    port: 0,
  },
  (info: AddressInfo) => {
    process.stdout.write(`${JSON.stringify({ port: info.port })}\n`);
  },
);

const inProcessRound = inProcessRounds(app, scenario.identity);
const answer = (value: object): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (line === "stats") {
    const cpu = process.cpuUsage();
    answer({ cpuMicros: cpu.user + cpu.system, requests });
  } else if (line === "in-process") {
    void inProcessRound().then((microsPerRequest) => answer({ microsPerRequest }));
  }
});
commands.on("close", () => {
  server.close();
  void (redis?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
