// A session object built directly on a storage (real or counting), with the test's clock, and a
// way to send it requests without a Worker in between: for tests that count storage operations.
import { type DurableObjectStorageLike, ThreadlineSessionObject } from "../../src/index.js";
import type { ObjectRequest } from "../../src/protocol.js";

/** The object, and `send` that answers what the object answers (or throws its error as JSON). */
export interface DirectObject {
  object: ThreadlineSessionObject;
  send<T>(request: ObjectRequest): Promise<T>;
}

export async function directObject(storage: DurableObjectStorageLike, now: () => number): Promise<DirectObject> {
  let loading: Promise<unknown> = Promise.resolve();
  const object = new ThreadlineSessionObject(
    { storage, blockConcurrencyWhile: (callback) => (loading = callback()) },
    undefined,
    now,
  );
  await loading;
  return {
    object,
    async send<T>(request: ObjectRequest): Promise<T> {
      const response = await object.fetch({ json: async () => request });
      const body = (await response.json()) as { result?: unknown; error?: unknown };
      if (body.error !== undefined) throw new Error(JSON.stringify(body.error));
      return body.result as T;
    },
  };
}
