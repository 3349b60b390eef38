// The demo's record backend: what `httpRecordSink` POSTs to, on loopback. A real backend would be
// your tracing service; this one keeps the records in memory and prints a line per batch.
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { RunRecord } from "@threadline/session-core";

/** Options for {@link startRecordReceiver}. */
export interface RecordReceiverOptions {
  /** The port to listen on, on 127.0.0.1. Default 0: a free one. */
  port?: number;
  /** The token the sink must send as `Authorization: Bearer <token>`; 401 otherwise. Default: none asked. */
  token?: string;
  /** Called with each new batch it stored (not with a retry of a batch it already had). */
  onBatch?: (records: readonly RunRecord[], batchId: string) => void;
}

/** A running {@link startRecordReceiver}. */
export interface RecordReceiver {
  /** Where to point `THREADLINE_RECORDS_URL`: `http://127.0.0.1:<port>/records`. */
  readonly url: string;
  readonly port: number;
  /** Every record stored, once each, in arrival order. */
  records(): RunRecord[];
  /** Batches that came again after being stored (a retry whose first answer was lost): answered 200, not stored twice. */
  readonly duplicateBatches: number;
  /** Stops listening and cuts open connections: the sink's requests fail until {@link restart}. */
  stop(): Promise<void>;
  /** Listens again on the same port, keeping what it stored. */
  restart(): Promise<void>;
}

/**
 * Starts an HTTP receiver for the record sink: `POST /records` with `{ "records": [...] }`, stored
 * once per `Idempotency-Key` (the sink's batch id, the same on every attempt of a batch) and once
 * per `runId`, answered 200. Anything else gets 404, a body that is not a batch 400.
 */
export async function startRecordReceiver(options: RecordReceiverOptions = {}): Promise<RecordReceiver> {
  const batches = new Set<string>();
  const byRunId = new Map<string, RunRecord>();
  const sockets = new Set<Socket>();
  let duplicateBatches = 0;
  let port = options.port ?? 0;

  function create(): Server {
    const server = createServer((request, response) => {
      if (request.method !== "POST" || request.url !== "/records") {
        response.writeHead(404).end();
        return;
      }
      if (options.token !== undefined && request.headers.authorization !== `Bearer ${options.token}`) {
        response.writeHead(401).end("bad token"); // 401 is permanent for the sink: it reports the batch dropped
        return;
      }
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        let records: RunRecord[];
        try {
          records = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { records: RunRecord[] }).records;
          if (!Array.isArray(records)) throw new TypeError("records is not an array");
        } catch {
          response.writeHead(400).end("not a record batch");
          return;
        }
        const batchId = String(request.headers["idempotency-key"] ?? crypto.randomUUID());
        if (batches.has(batchId)) {
          duplicateBatches++;
        } else {
          batches.add(batchId);
          for (const record of records) if (!byRunId.has(record.runId)) byRunId.set(record.runId, record);
          options.onBatch?.(records, batchId);
        }
        response.writeHead(200).end();
      });
    });
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    return server;
  }

  async function listen(): Promise<Server> {
    const server = create();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    return server;
  }

  let server: Server | undefined = await listen();
  return {
    get url() {
      return `http://127.0.0.1:${port}/records`;
    },
    get port() {
      return port;
    },
    get duplicateBatches() {
      return duplicateBatches;
    },
    records: () => [...byRunId.values()],
    async stop() {
      const closing = server;
      server = undefined;
      if (closing === undefined) return;
      const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
      for (const socket of sockets) socket.destroy(); // keep-alive connections too: the port goes dark at once
      await closed;
    },
    async restart() {
      if (server === undefined) server = await listen();
    },
  };
}
