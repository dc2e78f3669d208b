import { Pool } from 'undici';
import { BenchClient, loginAll } from './http.js';
import { BENCH_PASSWORD, BENCH_USERS } from './policy.js';

/**
 * A process that holds `count` event streams open on the service, spread over the bench users except
 * those named after the count (they are the ones being measured), reading and dropping whatever arrives.
 * Prints `BENCH_STREAMS_OPEN <count>` once every stream has its greeting. Run in its own process so 1,000
 * sockets' reads do not share an event loop with what is being timed.
 */
const [serviceUrl, countText, ...excluded] = process.argv.slice(2);
const count = Number(countText);
if (!serviceUrl || !Number.isInteger(count) || count < 1)
  throw new Error('usage: stream-holder.ts <service url> <count> [users to leave alone…]');

const users = BENCH_USERS.filter((user) => !excluded.includes(user));
const client = new BenchClient(serviceUrl, 8);
const tokens = await loginAll([client], users, BENCH_PASSWORD);
await client.close();

const pool = new Pool(serviceUrl, { connections: count, pipelining: 1, bodyTimeout: 0, headersTimeout: 0 });
let bytes = 0;

async function openStream(index: number): Promise<void> {
  const token = tokens[index % tokens.length];
  if (!token) throw new Error('no token');
  const response = await pool.request({
    method: 'GET',
    path: '/v1/events',
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
  });
  if (response.statusCode !== 200) throw new Error(`stream ${index} answered ${response.statusCode}`);
  await new Promise<void>((resolve, reject) => {
    let greeted = false;
    response.body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (!greeted && chunk.toString().includes(': connected')) {
        greeted = true;
        resolve();
      }
    });
    response.body.on('error', (error) => {
      if (!greeted) reject(error);
    });
  });
}

const BATCH = 50;
for (let first = 0; first < count; first += BATCH) {
  await Promise.all(
    Array.from({ length: Math.min(BATCH, count - first) }, (_, offset) => openStream(first + offset)),
  );
}
process.stdout.write(`BENCH_STREAMS_OPEN ${count}\n`);
process.on('SIGTERM', () => {
  process.stdout.write(`BENCH_STREAM_BYTES ${bytes}\n`);
  void pool.destroy().then(() => process.exit(0));
});
