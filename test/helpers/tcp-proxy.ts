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
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
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
