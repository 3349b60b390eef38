import type { Replies, ScriptTransport } from "./client.js";
import { isNoScript, timeoutError, toSessionError } from "./failures.js";
import type { Script } from "./scripts.js";

/** Runs one script with its keys and arguments and returns Redis's raw reply. */
export type RunScript = (script: Script, keys: string[], args: string[]) => Promise<unknown>;

/** How a transaction calls a script: `EVALSHA sha …`, or `EVAL source …` after a NOSCRIPT. */
export type ScriptCall = (script: Script, keys: string[], args: string[]) => string[];

/**
 * Runs commands as one MULTI/EXEC within the timeout and returns every reply. `build` is called
 * again with EVAL instead of EVALSHA when Redis did not know a script; any other command Redis
 * refused rejects the whole call (as a `SessionError`).
 */
export type RunTransaction = (
  operation: string,
  routingKey: string,
  build: (call: ScriptCall) => string[][],
) => Promise<Replies>;

/** Both ways the store talks to Redis, each bounded by `timeoutMs`. */
export interface Runner {
  script: RunScript;
  transaction: RunTransaction;
  /** One plain command (or a pipeline), bounded like the rest. */
  bounded<T>(command: () => Promise<T>, operation: string): Promise<T>;
}

const bySha: ScriptCall = (script, keys, args) => ["EVALSHA", script.sha, String(keys.length), ...keys, ...args];
const bySource: ScriptCall = (script, keys, args) => ["EVAL", script.source, String(keys.length), ...keys, ...args];

/**
 * Runs scripts as one EVALSHA. When Redis answers NOSCRIPT (its script cache was flushed, or
 * it restarted) the same call is sent as EVAL, which also reloads the script, so the next
 * EVALSHA works again. Every call settles within `timeoutMs`, whatever the client's own retry
 * and queueing settings: a Redis that is down or paused gives `STORE_UNAVAILABLE`, never a hang.
 */
export function createRunner(transport: ScriptTransport, timeoutMs: number): Runner {
  function bounded<T>(command: () => Promise<T>, operation: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(timeoutError(operation, timeoutMs)), timeoutMs);
      // A late answer after the timeout still lands in these handlers, so it is never an
      // unhandled rejection; settling the promise again is a no-op.
      send(
        command,
        (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        (error) => {
          clearTimeout(timer);
          reject(toSessionError(error, operation));
        },
      );
    });
  }

  const script: RunScript = (script, keys, args) =>
    bounded(async () => {
      try {
        return await transport.evalSha(script.sha, keys, args);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return transport.eval(script.source, keys, args);
      }
    }, script.name);

  const transaction: RunTransaction = (operation, routingKey, build) =>
    bounded(async () => {
      let replies = await transport.transaction(build(bySha), routingKey);
      // A script is either known or not for the whole EXEC, so NOSCRIPT means no script ran:
      // sending the transaction again with EVAL cannot apply anything twice.
      if (replies.some(isNoScript)) replies = await transport.transaction(build(bySource), routingKey);
      const refused = replies.find((reply) => reply instanceof Error);
      if (refused !== undefined) throw refused;
      return replies;
    }, operation);

  return { script, transaction, bounded };
}

// Clients may throw synchronously (a closed node-redis client, a bad argument) as well as reject.
function send<T>(command: () => Promise<T>, succeed: (reply: T) => void, fail: (error: unknown) => void) {
  let reply: Promise<T>;
  try {
    reply = command();
  } catch (error) {
    fail(error);
    return;
  }
  reply.then(succeed, fail);
}
