/**
 * The HTTP floor of the bench's server cases (second-wave notes, issue 14): the same server
 * library (Fastify, same options as the real server) answering `GET`/`PUT /v1/keys/*` with a
 * constant, no store behind it. Run as its own process, like `agent-state serve`, so both pay the
 * same loopback hop and share the same two cores with the bench:
 * `node dist/bench-bare.js` prints `listening on http://127.0.0.1:PORT`, stops on SIGTERM.
 */
import Fastify from 'fastify';

const ENTRY = JSON.stringify({ key: 'bench/http/k', value: { hello: 'bare' }, version: 1, updatedAt: 0 });

const fastify = Fastify({ logger: false, forceCloseConnections: 'idle', ajv: { customOptions: { coerceTypes: false } } });
fastify.get('/v1/keys/*', async (_req, reply) => reply.type('application/json').send(ENTRY));
fastify.put('/v1/keys/*', async (_req, reply) => reply.type('application/json').send(ENTRY));
fastify.get('/health', async () => ({ ok: true }));

await fastify.listen({ host: '127.0.0.1', port: 0 });
const address = fastify.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
const stop = (): void => void fastify.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
