import { createService, loadPolicyFile } from '../../server/index.js';
import { serveDigest } from './state-digest.js';

/**
 * The grant service for the bench: the same createService as `npm run server`, quiet logs, and one
 * line on stdout with the URL. Arguments: <policy file> <PGlite data folder | "-">; DATABASE_URL picks
 * PostgreSQL, BENCH_PORT the port (0: any), BENCH_DIGEST=1 adds the state-digest listener (printed first).
 * It prints `BENCH_STARTED <epoch ms>` as its code starts.
 */
// When the service's own code begins (Node, tsx and the modules are loaded): restart figures count from here.
process.stdout.write(`BENCH_STARTED ${Date.now()}\n`);
const [policyFile, dataDir] = process.argv.slice(2);
if (!policyFile || !dataDir) throw new Error('usage: service-entry.ts <policy file> <data folder | ->');
const databaseUrl = process.env.DATABASE_URL?.trim() ? process.env.DATABASE_URL : null;
const service = await createService({
  policy: loadPolicyFile(policyFile, process.env),
  databaseUrl,
  dataDir: databaseUrl ? null : dataDir,
  logger: { level: 'warn' },
});
if (process.env.BENCH_DIGEST === '1') process.stdout.write(`BENCH_DIGEST ${await serveDigest(service)}\n`);
const url = await service.listen(Number(process.env.BENCH_PORT ?? '0'), '127.0.0.1');
process.stdout.write(`BENCH_LISTENING ${url}\n`);
process.on('SIGTERM', () => {
  void service.close().then(() => process.exit(0));
});
