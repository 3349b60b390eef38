export type { ClientKind, IoredisLikeClient, NodeRedisLikeClient, RedisClientLike } from "./client.js";
export { type RedisStore, type RedisStoreOptions, redisStore } from "./redis-store.js";
