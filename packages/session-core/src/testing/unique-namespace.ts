/** A namespace no other test uses, so tests can share one backend without flushing it. */
export function uniqueNamespace(): string {
  return `test-${globalThis.crypto.randomUUID().slice(0, 8)}`;
}
