import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { startService } from '../server/index.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the HTTP + WebSocket service (settings from the environment; see README)')
    .action(async () => {
      const config = loadConfig();
      const log = createLogger(config.LOG_LEVEL, 1);
      const service = await startService(config, log);
      const stop = (signal: string): void => {
        log.info({ signal }, 'shutting down');
        void service.shutdown().then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
