export { describeSessionStore, type SessionStoreSuiteOptions } from "./conformance.js";
export { runOf } from "./conformance-runs.js";
export { createFakeClock, type FakeClock, GUIDE_EPOCH } from "./fake-clock.js";
export { type FaultOptions, type FaultyOperation, type FaultyStore, faultyStore } from "./faulty-store.js";
export { hostileIds, invalidUserIds } from "./hostile-ids.js";
export { type ModelBasedTestOptions, runModelBasedTest } from "./model.js";
export { runItemsModelTest } from "./model-items.js";
export { uniqueNamespace } from "./unique-namespace.js";
