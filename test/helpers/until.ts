import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it gives something (anything but undefined, null or false) and returns
 * that; fails, naming `what`, after `ms`. For waiting on a server, a follower, a leader.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}
