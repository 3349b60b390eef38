/** The user id of runs that name no user, as in the origin SDK. */
export const ANONYMOUS_USER_ID = "anonymous";

/**
 * The fallback for a run that names no user: returns {@link ANONYMOUS_USER_ID}, and the first time
 * warns that the run joined the shared anonymous session and how to name the user instead.
 *
 * @param howToName what to write instead, e.g. `"hooks.run(agent, input, { userId })"`
 */
export function anonymousFallback(source: string, howToName: string): () => string {
  let warned = false;
  return () => {
    if (!warned) {
      warned = true;
      console.warn(
        `[threadline] [${source}] A run named no user, so it joined the shared "${ANONYMOUS_USER_ID}" session. Pass ${howToName}. (Shown once.)`,
      );
    }
    return ANONYMOUS_USER_ID;
  };
}
