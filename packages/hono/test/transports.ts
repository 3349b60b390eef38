import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";

/** Sends requests to an app. `close` stops whatever `open` started. */
export interface Connection {
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** What the transports need of a Hono app, whatever its Env. */
export interface ServableApp {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
  fetch(request: Request): Response | Promise<Response>;
}

/** How a test reaches the app: in process, or over a real socket. */
export interface Transport {
  name: string;
  open(app: ServableApp): Promise<Connection>;
}

/** `app.request(...)`: Hono's in-process request, no socket. */
export const inProcess: Transport = {
  name: "app.request",
  async open(app) {
    return {
      request: async (path, init) => app.request(path, init),
      close: async () => {},
    };
  },
};

/** A real `@hono/node-server` on a free loopback port, reached with `fetch`. */
export const nodeServer: Transport = {
  name: "node server on loopback",
  open(app) {
    return new Promise((resolve) => {
      const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
        const origin = `http://127.0.0.1:${info.port}`;
        resolve({
          request: (path, init) => fetch(`${origin}${path}`, init),
          close: () =>
            new Promise<void>((done, fail) => {
              server.close((error) => (error ? fail(error) : done()));
              // Keep-alive sockets from fetch would hold `close` open until they time out.
              if ("closeAllConnections" in server) server.closeAllConnections();
            }),
        });
      });
    });
  },
};

export const transports: Transport[] = [inProcess, nodeServer];
