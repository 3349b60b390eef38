// Compiled by tsconfig.bindings.json against @cloudflare/workers-types: the real bindings must
// fit the structural types the stores accept, or users would need casts.
import type {
  DurableObjectNamespaceLike,
  DurableObjectStateLike,
  DurableObjectStubLike,
  KVNamespaceLike,
} from "../../src/bindings.js";

export const kv = (binding: KVNamespace): KVNamespaceLike => binding;
export const objects = (binding: DurableObjectNamespace): DurableObjectNamespaceLike => binding;
export const stub = (value: DurableObjectStub): DurableObjectStubLike => value;
export const state = (value: DurableObjectState): DurableObjectStateLike => value;
