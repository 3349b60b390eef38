// The middleware's own cost without a socket: each app's `fetch` called in this process with
// prebuilt requests, best of several rounds (the least disturbed by neighbours). Steadier than
// requests/s on a shared machine, and the floor the HTTP numbers approach on a quiet one.
import { type Scenario, USER_HEADER } from "./apps.js";

const USERS = 1000;
const ROUNDS = 15;
const REQUESTS_PER_ROUND = 2 * USERS;

/** Microseconds per request, best of {@link ROUNDS} rounds. */
export async function microsecondsPerRequest(scenario: Scenario): Promise<number> {
  const app = scenario.build({});
  const requests: Request[] = [];
  for (let index = 0; index < USERS; index++) {
    const header = { [USER_HEADER]: `user-${index}` };
    if (scenario.identity === "header") {
      requests.push(new Request("http://bench.local/", { headers: header }));
      continue;
    }
    const signedIn = await app.fetch(new Request("http://bench.local/login", { headers: header }));
    const cookie = signedIn.headers
      .getSetCookie()
      .map((value) => value.split(";")[0])
      .join("; ");
    requests.push(new Request("http://bench.local/", { headers: { cookie } }));
  }
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (let index = 0; index < REQUESTS_PER_ROUND; index++) {
      const response = await app.fetch(requests[index % USERS] as Request);
      if (response.status !== 200) throw new Error(`${scenario.name}: status ${response.status}`);
    }
    best = Math.min(best, ((performance.now() - started) * 1000) / REQUESTS_PER_ROUND);
  }
  return best;
}
