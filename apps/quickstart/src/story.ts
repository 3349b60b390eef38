import { SessionManager } from "@threadline/session-core";
import { createFakeClock, type FakeClock } from "@threadline/session-core/fake-clock";

type Print = (line: string) => void;

/** `12:00:30` for a simulated time. */
function clockTime(clock: FakeClock): string {
  return new Date(clock.now()).toISOString().slice(11, 19);
}

/** The origin guide's scenarios, in order, printed as a short story. */
export async function runQuickstart(print: Print): Promise<void> {
  print("threadline quickstart: the session guide's scenarios on a simulated clock");
  print("(the clock is simulated, so minutes pass in milliseconds)");
  await oneConversation(print);
  await manyUsers(print);
  await customTimeouts(print);
  await closingASession(print);
  await cleanup(print);
  print("");
  print("That's the whole model: a session follows the user while they talk and rolls over when they go quiet.");
}

async function oneConversation(print: Print): Promise<void> {
  const clock = createFakeClock();
  const sessions = new SessionManager({ namespace: "support", inactivityTimeout: 120, now: clock.now });
  print("");
  print("1. One user, one conversation (inactivity timeout 120 s)");

  const first = await sessions.resolve("user-123");
  print(`   ${clockTime(clock)}  user-123 says hello           -> ${first.sessionId} (new session)`);

  clock.advance(30);
  const second = await sessions.resolve("user-123");
  const same = second.sessionId === first.sessionId;
  print(
    `   ${clockTime(clock)}  user-123 asks a follow-up     -> ${second.sessionId} (${same ? "same session: active 30 s ago" : "new session"})`,
  );

  clock.advance(150);
  const third = await sessions.resolve("user-123");
  print(
    `   ${clockTime(clock)}  user-123 comes back later     -> ${third.sessionId} (${third.isNew ? "new session: quiet for 150 s, more than 120 s" : "same session"})`,
  );
}

async function manyUsers(print: Print): Promise<void> {
  const clock = createFakeClock();
  const sessions = new SessionManager({ namespace: "whatsapp", now: clock.now });
  print("");
  print("2. Many users at once: every user gets their own session");
  for (const user of ["5511999999999", "5511888888888", "alice@example.com"]) {
    print(`   ${clockTime(clock)}  ${user.padEnd(18)} -> ${await sessions.getOrCreateSession(user)}`);
    clock.advance(10);
  }
  await sessions.closeSession("5511888888888");
  const stillThere = await sessions.getSessionInfo("5511999999999");
  print(`   closing 5511888888888's session leaves 5511999999999 in ${stillThere?.sessionId ?? "no session"}`);
  const other = new SessionManager({ namespace: "sales", now: clock.now });
  print(
    `   the same phone number in namespace "sales" is a different conversation: ${await other.getOrCreateSession("5511999999999")}`,
  );
}

async function customTimeouts(print: Print): Promise<void> {
  const clock = createFakeClock();
  print("");
  print("3. Custom timeouts: each user is quiet for 60 s, then for 400 s");
  const managers = [
    {
      label: "quick chat (30 s)  ",
      sessions: new SessionManager({ namespace: "chat", inactivityTimeout: 30, now: clock.now }),
    },
    {
      label: "support (300 s)    ",
      sessions: new SessionManager({ namespace: "support", inactivityTimeout: 300, now: clock.now }),
    },
    {
      label: "long tasks (600 s) ",
      sessions: new SessionManager({ namespace: "tasks", inactivityTimeout: 600, now: clock.now }),
    },
  ];
  for (const { sessions } of managers) await sessions.getOrCreateSession("user-123");
  for (const quiet of [60, 400]) {
    clock.advance(quiet);
    for (const { label, sessions } of managers) {
      const session = await sessions.resolve("user-123");
      print(
        `   ${label} after ${String(quiet).padStart(3)} s quiet -> ${session.isNew ? "new session" : "same session"}`,
      );
    }
  }
}

async function closingASession(print: Print): Promise<void> {
  const clock = createFakeClock();
  const sessions = new SessionManager({ namespace: "support", now: clock.now });
  print("");
  print('4. Closing a session: the user says "thanks, bye" and the ticket is done');
  const before = await sessions.getOrCreateSession("user-123");
  print(`   ${clockTime(clock)}  conversation runs in          ${before}`);
  await sessions.closeSession("user-123");
  const after = await sessions.getOrCreateSession("user-123");
  print(`   ${clockTime(clock)}  closed; the next message gets ${after} (a new id, even in the same second)`);
}

async function cleanup(print: Print): Promise<void> {
  const clock = createFakeClock();
  const sessions = new SessionManager({ namespace: "support", inactivityTimeout: 120, now: clock.now });
  print("");
  print("5. Cleanup: expired sessions are removed in one call");
  await sessions.getOrCreateSession("ana");
  await sessions.getOrCreateSession("bruno");
  clock.advance(100);
  await sessions.getOrCreateSession("carla");
  clock.advance(30);
  const removed = await sessions.cleanupExpired();
  const carla = await sessions.getSessionInfo("carla");
  print(`   ${clockTime(clock)}  ana and bruno have been quiet 130 s, carla 30 s`);
  print(
    `   cleanupExpired() removed ${removed} sessions; carla's is still live (idle ${carla?.inactiveFor ?? "?"} s, ${carla?.duration ?? "?"} s old)`,
  );
}
