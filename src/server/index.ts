import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { loadModel } from '../model/index.js';
import { requireNativeUws } from './uws.js';

export interface Service {
  port: number;
  shutdown(): Promise<void>;
}

export async function startService(config: Config, log: Logger): Promise<Service> {
  const { uws, implementation } = requireNativeUws(config.ALLOW_UWS_FALLBACK);
  log.info({ implementation }, `uWebSockets.js: ${implementation} implementation loaded`);
  const model = await loadModel(config.MODEL_DIR, { threads: config.INFERENCE_THREADS });
  log.info({ model: model.card.name, version: model.card.version }, 'model loaded');
  const app = uws.App();
  app.get('/health', (res) => {
    res.writeHeader('content-type', 'application/json').end('{"status":"ok"}');
  });
  const listenSocket = await new Promise<unknown>((resolve, reject) => {
    app.listen(config.HOST, config.PORT, (s) => (s ? resolve(s) : reject(new Error(`cannot listen on ${config.HOST}:${config.PORT}`))));
  });
  const port = uws.us_socket_local_port(listenSocket as never);
  log.info({ host: config.HOST, port }, 'listening');
  return {
    port,
    async shutdown() {
      uws.us_listen_socket_close(listenSocket as never);
      await model.engine.close();
    },
  };
}
