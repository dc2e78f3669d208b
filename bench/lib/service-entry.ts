import { createService } from '../../server/app.js';
import { loadPolicyFile } from '../../server/config/load.js';

/**
 * The grant service for the bench: the same createService as `npm run server`, quiet logs, and one
 * line on stdout with the URL. Arguments: <policy file> <PGlite data folder | "-">; DATABASE_URL picks
 * PostgreSQL.
 */
const [policyFile, dataDir] = process.argv.slice(2);
if (!policyFile || !dataDir) throw new Error('usage: service-entry.ts <policy file> <data folder | ->');
const databaseUrl = process.env.DATABASE_URL?.trim() ? process.env.DATABASE_URL : null;
const service = await createService({
  policy: loadPolicyFile(policyFile, process.env),
  databaseUrl,
  dataDir: databaseUrl ? null : dataDir,
  logger: { level: 'warn' },
});
const url = await service.listen(0, '127.0.0.1');
process.stdout.write(`BENCH_LISTENING ${url}\n`);
process.on('SIGTERM', () => {
  void service.close().then(() => process.exit(0));
});
