import { openDatabase } from '../../server/index.js';

/**
 * Opens the service's database on a PGlite folder (creating it when new), leaves it idle for a second and
 * prints this process's resident memory in MiB: `RSS <n>`. Run in a process of its own, so nothing else
 * the test runner holds is counted.
 */
const [dataDir] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: pglite-resident.ts <data folder>');
const db = await openDatabase({ databaseUrl: null, dataDir, logger: { warn: () => undefined } });
await db.query('SELECT 1');
await new Promise((resolve) => setTimeout(resolve, 1000));
process.stdout.write(`RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)}\n`);
await db.close();
