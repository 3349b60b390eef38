export { threadlineSession } from "./middleware.js";
export type {
  MissingUserPolicy,
  OptionalSessionEnv,
  OptionalSessionVariables,
  SessionEnv,
  SessionVariables,
  StoreErrorPolicy,
  StoreFactory,
  StoreFactoryTools,
  ThreadlineSession,
  ThreadlineSessionOptions,
} from "./types.js";
