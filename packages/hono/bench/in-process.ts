// The app's own cost without a socket, measured inside a server process (so only that app's code
// is warm there, as in production): `app.fetch` with prebuilt requests, one per user per round.
import { credentialsOf, type Identity, type Served, USER_HEADER } from "./apps.js";

const USERS = 1000;

/** Builds one GET / request per user; cookie scenarios sign each user in through the app first. */
async function prebuiltRequests(app: Served, identity: Identity): Promise<Request[]> {
  const requests: Request[] = [];
  for (let index = 0; index < USERS; index++) {
    if (identity !== "cookie") {
      requests.push(new Request("http://bench.local/", { headers: await credentialsOf(identity, index) }));
      continue;
    }
    const signedIn = await app.fetch(
      new Request("http://bench.local/login", { headers: { [USER_HEADER]: `user-${index}` } }),
    );
    const cookie = signedIn.headers
      .getSetCookie()
      .map((value) => value.split(";")[0])
      .join("; ");
    requests.push(new Request("http://bench.local/", { headers: { cookie } }));
  }
  return requests;
}

/** Returns a function that runs one round and answers microseconds per request. */
export function inProcessRounds(app: Served, identity: Identity): () => Promise<number> {
  let requests: Promise<Request[]> | undefined;
  return async () => {
    requests ??= prebuiltRequests(app, identity);
    const prepared = await requests;
    const started = performance.now();
    for (const request of prepared) {
      const response = await app.fetch(request);
      if (response.status !== 200) throw new Error(`status ${response.status}`);
    }
    return ((performance.now() - started) * 1000) / prepared.length;
  };
}
