// SIMULATE_TRAFFIC=1: the service sends itself synthetic traffic, so a demo (a Hugging Face
// Space) shows a live dashboard with nobody uploading.
//
// The rows go over HTTP to the service's own /predict rather than straight into the pipeline:
// that way they take exactly the path a client's rows take (auth, limits, the prediction log,
// the drift window, metrics, request stats and the live predictions feed) and nothing here has
// to keep up with the route as it changes. The cost, a loopback request every few seconds, is
// negligible.
import { randomInt } from 'node:crypto';
import type { Config } from '../config.js';
import type { ReferenceProfile } from '../drift/index.js';
import type { ModelCard } from '../model/index.js';
import { describeScenarios, postCsv, runTraffic, TrafficGenerator } from '../sim/index.js';
import type { ServiceState } from './state.js';

/** Where the service can reach itself: the wildcard addresses are reached over loopback. */
export function selfUrl(host: string, port: number): URL {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return new URL(`http://${h}:${port}/predict`);
}

export class SelfTraffic {
  private readonly seed = randomInt(2 ** 31);
  private readonly generator: TrafficGenerator;
  private readonly ac = new AbortController();
  private done: Promise<void> | undefined;

  /**
   * Builds the generator from the service's card and reference profile. Called before the
   * service opens anything, so a bad SIMULATE_DRIFT stops start-up with nothing to close.
   */
  constructor(
    private readonly config: Config,
    card: ModelCard,
    profile: ReferenceProfile,
  ) {
    this.generator = new TrafficGenerator(profile, card, { seed: this.seed, drift: config.SIMULATE_DRIFT });
  }

  start(s: ServiceState, port: number): void {
    const url = selfUrl(this.config.HOST, port);
    const signal = this.ac.signal;
    s.log.info(
      { url: url.href, seed: this.seed, drift: describeScenarios(this.generator.scenarios) },
      'simulating traffic (SIMULATE_TRAFFIC)',
    );
    this.done = runTraffic({
      generator: this.generator,
      // The original daemon's pace: 1–5 rows every 2–8 s.
      rowsPerRequest: [1, 5],
      intervalMs: [2000, 8000],
      signal,
      send: (csv) => postCsv(url, csv, { apiKey: this.config.API_KEY, signal }),
      onRequest: (r) => {
        if (r.status === 200) s.log.debug({ rows: r.rows, predicted: r.n_rows, rejected: r.n_rejected }, 'simulated request');
        else if (!signal.aborted) s.log.warn({ status: r.status, error: r.error }, 'simulated request failed');
      },
    }).then(
      () => undefined,
      (err: unknown) => s.log.error({ err }, 'traffic simulation stopped'),
    );
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.done;
  }
}
