import { DriftlineError } from '../../errors.js';
import { exchange, sendError, type Handler } from '../http.js';
import type { ServiceState } from '../state.js';

/** A route that needs the open service: made once, from the state, on its first request. */
export type StateRoute = (s: ServiceState) => Handler;

/**
 * Readiness: routes are registered before the socket listens (a request with no route would have
 * its connection closed by uWS, unanswered), but most need the model and the store. Until the
 * state is opened, and again while shutting down, they answer 503 with Retry-After.
 */
export class ReadinessGate {
  #state: ServiceState | undefined;
  #ready = false;

  get ready(): boolean {
    return this.#ready;
  }

  /** The opened state; undefined while the model and the store are still loading. */
  get state(): ServiceState | undefined {
    return this.#state;
  }

  open(state: ServiceState): void {
    this.#state = state;
    this.#ready = true;
  }

  /** Shutting down: requests get 503 again, the state stays for what is still in flight. */
  close(): void {
    this.#ready = false;
  }

  route(make: StateRoute): Handler {
    let handler: Handler | undefined;
    return (res, req) => {
      if (this.#ready && this.#state !== undefined) return (handler ??= make(this.#state))(res, req);
      sendError(exchange(res), new DriftlineError('DL_ERR_NOT_READY', 'The service is starting or shutting down'), {
        headers: [['retry-after', '1']],
      });
    };
  }
}
