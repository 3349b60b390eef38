import { SessionManager as Current } from "@threadline/session-core";
import { SessionManager as Previous } from "/tmp/prev/packages/session-core/dist/index.js";
import { formatRates, measureInterleaved, medianRatio, type RowRates } from "./measure.js";

const USERS = 10_000;
const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
const current = new Current();
const previous = new Previous();
for (const u of users) {
  await current.getOrCreateSession(u);
  await previous.getOrCreateSession(u);
}
let cc = new Current();
let pc = new Previous();
const rows = await measureInterleaved([
  { name: "previous: hit", operation: (i) => previous.getOrCreateSession(users[i % USERS] as string) },
  { name: "current: hit", operation: (i) => current.getOrCreateSession(users[i % USERS] as string) },
  {
    name: "previous: create",
    operation: (i) => {
      if (i % 100000 === 0) pc = new Previous();
      return pc.getOrCreateSession(`n-${i}`);
    },
  },
  {
    name: "current: create",
    operation: (i) => {
      if (i % 100000 === 0) cc = new Current();
      return cc.getOrCreateSession(`n-${i}`);
    },
  },
]);
const [ph, ch, pcr, ccr] = rows as RowRates[];
for (const r of rows as RowRates[]) console.log(r.name, formatRates(r.rates));
console.log("hit current/previous", medianRatio(ch!.rates, ph!.rates), "create", medianRatio(ccr!.rates, pcr!.rates));
