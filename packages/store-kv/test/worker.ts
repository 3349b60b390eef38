// The Worker the tests run in: it exports the session object, as an app's main module would.
export { ThreadlineSessionObject } from "../src/index.js";

export default {
  fetch(): Response {
    return new Response("threadline store-kv test worker");
  },
};
