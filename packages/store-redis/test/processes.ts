// What the multi-process tests share: forking worker processes that run the package from source,
// handing each the same setup, waiting for their answers, stopping them; and listing a prefix's keys.
import { type ChildProcess, fork } from "node:child_process";
import type { TestClient } from "./clients.js";

/** The next message `child` sends; rejects if it exits first. */
export function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`worker exited early (code ${code})`));
    child.once("exit", onExit);
    child.once("message", (message) => {
      child.off("exit", onExit);
      resolve(message as T);
    });
  });
}

/** Forks `count` workers of `path`, sends each `setup`, and resolves once every one is ready. */
export async function startWorkers(path: string, count: number, setup: unknown): Promise<ChildProcess[]> {
  const workers = Array.from({ length: count }, () =>
    fork(path, { execArgv: ["--import", "tsx", "--conditions=threadline-source"], stdio: "inherit" }),
  );
  await Promise.all(
    workers.map((worker) => {
      const ready = nextMessage<string>(worker);
      worker.send(setup as object);
      return ready;
    }),
  );
  return workers;
}

/** Asks every worker still running to exit and waits until it has. */
export async function stopWorkers(workers: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map((worker) => {
      if (worker.exitCode !== null) return undefined;
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      worker.send("exit");
      return exited;
    }),
  );
}

/** Every key under `prefix` on the connection's node (single node), by SCAN. */
export async function keysUnder(connection: TestClient, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = (await connection.command(["SCAN", cursor, "MATCH", `${prefix}*`, "COUNT", "1000"])) as [
      unknown,
      unknown[],
    ];
    cursor = String(next);
    keys.push(...batch.map(String));
  } while (cursor !== "0");
  return keys.sort();
}
