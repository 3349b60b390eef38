// The slice of the workerd test modules these tests use. (`@cloudflare/workers-types` would
// clash with the Node types of the other tests, so the shapes are declared here.)
declare module "cloudflare:test" {
  interface ExecutionContextLike {
    waitUntil(promise: Promise<unknown>): void;
    passThroughOnException(): void;
    props: unknown;
  }
  export function createExecutionContext(): ExecutionContextLike;
  export function waitOnExecutionContext(context: ExecutionContextLike): Promise<void>;
}

declare module "cloudflare:workers" {
  /** The test Worker's exports (vitest.config.ts `main`); `default` is its fetch handler. */
  export const exports: {
    default: { fetch(input: string, init?: { headers?: Record<string, string> }): Promise<Response> };
  };
}
