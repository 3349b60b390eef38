export { type RedisCluster, type RedisServer, startRedisCluster, startRedisServer } from "./redis-server.js";
