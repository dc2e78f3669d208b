import Fastify from 'fastify';

/** The baseline: a Fastify route that does nothing, on the same machine and loopback. */
const app = Fastify({ logger: false });
app.get('/noop', async () => ({ ok: true }));
const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`BENCH_LISTENING ${url}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
