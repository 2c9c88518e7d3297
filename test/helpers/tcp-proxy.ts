// A TCP relay in front of a real server, that a test can cut and restore: while cut, the port
// is not bound (new connections are refused) and every open connection is reset, which is what
// a client sees when a database server goes down or its network does.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far (relayed or reset). */
  readonly accepted: number;
  /**
   * Resets every relayed connection and, from now on, every new one as soon as it is accepted:
   * a server that takes connections and drops them. Each attempt is counted in `accepted`.
   */
  resetAll(): void;
  /**
   * The next chunk a client sends that holds `pattern` is relayed, then that client's
   * connection is reset and the server's answer is never relayed: the server acts on the
   * message, the client never learns whether it did (a connection lost during COMMIT).
   */
  dropAfter(pattern: string): void;
  /** Resets every relayed connection and stops listening. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let accepted = 0;
  let resetting = false;
  let armed: Buffer | undefined;
  const server = net.createServer((client) => {
    accepted++;
    if (resetting) {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    let dropped = false;
    client.on('data', (d: Buffer) => {
      if (armed !== undefined && d.includes(armed)) {
        armed = undefined;
        dropped = true;
        // Once the kernel has the bytes, the client is cut; the server still gets them, and
        // its connection ends a moment later, after it has acted on them.
        upstream.write(d, () => client.resetAndDestroy());
        setTimeout(() => upstream.end(), 200).unref();
        return;
      }
      if (!upstream.write(d)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (d: Buffer) => {
      if (dropped) return;
      if (!client.write(d)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    client.on('close', () => {
      if (!dropped) upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);
  const cut = async (): Promise<void> => {
    const closed = server.listening ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    for (const s of open) s.resetAndDestroy();
    await closed;
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    dropAfter(pattern) {
      armed = Buffer.from(pattern);
    },
    resetAll() {
      resetting = true;
      for (const s of open) s.resetAndDestroy();
    },
    cut,
    restore: async () => {
      resetting = false;
      if (!server.listening) await listen(port);
    },
    close: cut,
  };
}
