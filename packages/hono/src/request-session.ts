import type { ResolvedSession, SessionManager } from "@threadline/session-core";
import type { ThreadlineSession } from "./types.js";

/**
 * The object behind `c.var.session`. A class so `close()` lives on the prototype (no closure per
 * request) and the manager stays out of `JSON.stringify`.
 */
export class RequestSession implements ThreadlineSession {
  readonly sessionId: string;
  readonly userId: string;
  readonly namespace: string;
  readonly isNew: boolean;
  readonly anonymous: boolean;
  readonly createdAt: number;
  readonly lastActivityAt: number;
  readonly expiresAt: number;
  readonly turns: number;
  readonly previousSessionId: string | undefined;
  readonly #manager: SessionManager;

  constructor(resolved: ResolvedSession, anonymous: boolean, manager: SessionManager) {
    this.sessionId = resolved.sessionId;
    this.userId = resolved.userId;
    this.namespace = resolved.namespace;
    this.isNew = resolved.isNew;
    this.anonymous = anonymous;
    this.createdAt = resolved.createdAt;
    this.lastActivityAt = resolved.lastActivityAt;
    this.expiresAt = resolved.expiresAt;
    this.turns = resolved.turns;
    this.previousSessionId = resolved.previousSessionId;
    this.#manager = manager;
  }

  get manager(): SessionManager {
    return this.#manager;
  }

  close(): Promise<boolean> {
    return this.#manager.closeSession(this.userId, this.namespace, { sessionId: this.sessionId });
  }
}
