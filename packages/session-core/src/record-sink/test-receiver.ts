// A real HTTP receiver for the sink's tests (node:http on 127.0.0.1, a free port). Not exported.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { RunRecord } from "../run-record.js";

/** How the receiver answers one request: store and 200, never answer (after storing), or a status without storing. */
export type Reply = "ok" | "stall" | { status: number; retryAfter?: string };

export interface ReceivedRequest {
  batchId: string;
  attempt: number;
  headers: IncomingHttpHeaders;
  runIds: string[];
  reply: Reply;
  at: number;
}

export class TestReceiver {
  /** Every request whose body arrived, in order. */
  readonly requests: ReceivedRequest[] = [];
  /** What the receiver kept, deduplicated by `Idempotency-Key` as a real receiver would. */
  readonly stored: Map<string, string[]> = new Map();
  /** Requests for a batch it already had (a retry after a lost answer): answered 200, not stored again. */
  duplicates = 0;
  readonly #script: Reply[] = [];
  readonly #sockets = new Set<Socket>();
  #server: Server;
  port = 0;

  private constructor() {
    this.#server = this.#create();
  }

  static async start(): Promise<TestReceiver> {
    const receiver = new TestReceiver();
    await receiver.#listen(0);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/records`;
  }

  /** Answers the next requests with `replies` in turn, then `"ok"`. */
  script(...replies: Reply[]): void {
    this.#script.push(...replies);
  }

  /** Every run id stored, in arrival order (a run id twice would be a duplicate that got through). */
  storedRunIds(): string[] {
    return [...this.stored.values()].flat();
  }

  /** Kills the receiver: the port refuses connections, open connections are cut. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  /** Brings it back on the same port. */
  async restart(): Promise<void> {
    this.#server = this.#create();
    await this.#listen(this.port);
  }

  #create(): Server {
    const server = createServer((request, response) => {
      if (request.method !== "POST") {
        response.writeHead(204).end(); // a warm-up request
        return;
      }
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { records: RunRecord[] };
        const batchId = String(request.headers["idempotency-key"]);
        const reply = this.#script.shift() ?? "ok";
        const runIds = body.records.map((record) => record.runId);
        this.requests.push({
          batchId,
          attempt: Number(request.headers["x-threadline-attempt"]),
          headers: request.headers,
          runIds,
          reply,
          at: performance.now(),
        });
        if (reply === "ok" || reply === "stall") {
          if (this.stored.has(batchId)) this.duplicates++;
          else this.stored.set(batchId, runIds);
        }
        if (reply === "stall") return; // stored, but the answer never comes
        if (reply === "ok") {
          response.writeHead(200).end();
          return;
        }
        const headers = reply.retryAfter === undefined ? {} : { "retry-after": reply.retryAfter };
        response.writeHead(reply.status, headers).end(`status ${reply.status}`);
      });
    });
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    return server;
  }

  #listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, "127.0.0.1", () => {
        this.port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }
}
