export { threadlineSession } from "./middleware.js";
export type {
  MissingUserPolicy,
  OptionalSessionEnv,
  OptionalSessionVariables,
  SessionEnv,
  SessionVariables,
  StoreErrorPolicy,
  ThreadlineSession,
  ThreadlineSessionOptions,
} from "./types.js";
