// Starts one redis-server and a 3-master Redis Cluster on free loopback ports for the whole
// run, and stops them afterwards. REDIS_URL points the single-node tests at another server
// instead; tests then only add keys under fresh random namespaces and never flush anything.
import type { TestProject } from "vitest/node";
import {
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  startRedisServer,
} from "../src/testing/redis-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The single-node Redis the suites use. */
    redisUrl: string;
    /** True when this run started that server itself (so tests may flush its script cache). */
    ownRedis: boolean;
    /** Host:port of every cluster master. */
    clusterNodes: string[];
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.REDIS_URL;
  const [server, cluster]: [RedisServer | undefined, RedisCluster] = await Promise.all([
    external ? undefined : startRedisServer(),
    startRedisCluster(3),
  ]);
  project.provide("redisUrl", external ?? (server as RedisServer).url);
  project.provide("ownRedis", external === undefined);
  project.provide(
    "clusterNodes",
    cluster.nodes.map((node) => `127.0.0.1:${node.port}`),
  );
  return async () => {
    await Promise.all([server?.stop(), cluster.stop()]);
  };
}
