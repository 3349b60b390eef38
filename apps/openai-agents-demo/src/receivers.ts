// Two local HTTP receivers the demo starts offline, on free loopback ports: one for run records
// (what httpRecordSink sends) and one for spans (OTLP/HTTP JSON, what OTLPTraceExporter sends).
// A real backend would be Langfuse, Phoenix, Jaeger…; these keep what arrives so the demo can
// show it and its tests can check it.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { RunRecord } from "@threadline/session-core";

/** A server on 127.0.0.1 that can be killed (connections cut) and brought back on the same port. */
abstract class LocalReceiver {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  /** The port it listens on (the same after a restart). */
  get port(): number {
    return this.#port;
  }

  /** Whether it is listening now. */
  get running(): boolean {
    return this.#server !== undefined;
  }

  /** Starts listening: on a free port the first time, on the same port after {@link stop}. */
  async start(): Promise<this> {
    if (this.#server !== undefined) return this;
    const server = createServer((request, response) => {
      void readBody(request).then(
        (body) => {
          const { status, body: answer } = this.handle(request, body);
          response.writeHead(status, { "content-type": "application/json" }).end(answer);
        },
        () => response.destroy(),
      );
    });
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Kills it: the port refuses connections, requests in flight are cut without an answer. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  protected abstract handle(request: IncomingMessage, body: string): { status: number; body: string };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Receives run records as `httpRecordSink` sends them (`POST {"records": [...]}` with an
 * `Idempotency-Key` per batch) and keeps each batch once, as a real receiver should: a retry of a
 * batch it already has (its answer was lost) is answered 200 and not stored again.
 */
export class RecordReceiver extends LocalReceiver {
  /** Batches kept, by `Idempotency-Key`, in arrival order. */
  readonly batches: Map<string, RunRecord[]> = new Map();
  /** Requests for a batch it already had. */
  duplicates = 0;
  /** The authorization header of the last request. */
  lastAuthorization: string | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}/records`;
  }

  /** Every record kept, in arrival order. */
  records(): RunRecord[] {
    return [...this.batches.values()].flat();
  }

  protected handle(request: IncomingMessage, body: string): { status: number; body: string } {
    const batchId = request.headers["idempotency-key"];
    if (request.method !== "POST" || typeof batchId !== "string") return { status: 400, body: "{}" };
    this.lastAuthorization = request.headers.authorization;
    const { records } = JSON.parse(body) as { records: RunRecord[] };
    if (this.batches.has(batchId)) this.duplicates++;
    else this.batches.set(batchId, records);
    return { status: 200, body: "{}" };
  }
}

/** One span as OTLP/HTTP JSON carries it, with its attributes as a plain object. */
export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, string | number | boolean | undefined>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

interface OtlpRequest {
  resourceSpans?: {
    scopeSpans?: {
      spans?: {
        name: string;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        attributes?: { key: string; value: OtlpValue }[];
      }[];
    }[];
  }[];
}

/** Receives spans from `OTLPTraceExporter` (`@opentelemetry/exporter-trace-otlp-http`, JSON) on `/v1/traces`. */
export class OtlpReceiver extends LocalReceiver {
  readonly spans: ReceivedSpan[] = [];

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  protected handle(request: IncomingMessage, body: string): { status: number; body: string } {
    if (request.method !== "POST" || !request.headers["content-type"]?.startsWith("application/json")) {
      return { status: 415, body: "{}" }; // this receiver reads OTLP JSON only
    }
    const otlp = JSON.parse(body) as OtlpRequest;
    for (const resource of otlp.resourceSpans ?? []) {
      for (const scope of resource.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            name: span.name,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            attributes: Object.fromEntries(
              (span.attributes ?? []).map(({ key, value }) => [
                key,
                value.stringValue ??
                  (value.intValue === undefined ? undefined : Number(value.intValue)) ??
                  value.doubleValue ??
                  value.boolValue,
              ]),
            ),
          });
        }
      }
    }
    return { status: 200, body: "{}" };
  }
}
