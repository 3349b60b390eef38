import type { ScriptTransport } from "./client.js";
import { isNoScript, timeoutError, toSessionError } from "./failures.js";
import type { Script } from "./scripts.js";

/** Runs one script with its keys and arguments and returns Redis's raw reply. */
export type RunScript = (script: Script, keys: string[], args: string[]) => Promise<unknown>;

/**
 * Runs a script as one EVALSHA. When Redis answers NOSCRIPT (its script cache was flushed, or
 * it restarted) the same call is sent as EVAL, which also reloads the script, so the next
 * EVALSHA works again. Every call settles within `timeoutMs`, whatever the client's own retry
 * and queueing settings: a Redis that is down or paused gives `STORE_UNAVAILABLE`, never a hang.
 */
export function createScriptRunner(transport: ScriptTransport, timeoutMs: number): RunScript {
  return (script, keys, args) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(timeoutError(script.name, timeoutMs)), timeoutMs);
      const succeed = (reply: unknown) => {
        clearTimeout(timer);
        resolve(reply);
      };
      const fail = (error: unknown) => {
        clearTimeout(timer);
        reject(toSessionError(error, script.name));
      };
      // A late answer after the timeout still lands in these handlers, so it is never an
      // unhandled rejection; settling the promise again is a no-op.
      send(
        () => transport.evalSha(script.sha, keys, args),
        succeed,
        (error) => {
          if (isNoScript(error)) send(() => transport.eval(script.source, keys, args), succeed, fail);
          else fail(error);
        },
      );
    });
}

/** Runs one plain command within `timeoutMs`, mapping failures as scripts do. */
export function bounded<T>(command: () => Promise<T>, operation: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError(operation, timeoutMs)), timeoutMs);
    send(
      command,
      (reply) => {
        clearTimeout(timer);
        resolve(reply as T);
      },
      (error) => {
        clearTimeout(timer);
        reject(toSessionError(error, operation));
      },
    );
  });
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
