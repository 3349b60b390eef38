// The one piece of the workerd test runtime these tests use: the Worker under test, called
// through its real fetch entry point (vitest.config.ts `main`).
declare module "cloudflare:workers" {
  export const exports: {
    default: { fetch(input: string, init?: RequestInit): Promise<Response> };
  };
}
