import path from 'node:path';

/** The service's SQLite database inside DATA_DIR. */
export const databaseFile = (dataDir: string): string => path.join(dataDir, 'driftline.db');
