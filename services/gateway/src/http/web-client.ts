import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths that belong to the API: never answered with the web client's index.html. */
const API_PREFIXES = ['/v1/', '/.well-known/'];

// The app loads only its own files; it talks to this origin (REST, WebSocket) and shows images
// from the S3 store's signed URLs, which may be on another host.
const CSP = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data: blob: http: https:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the built reference web client (apps/web/dist) at `/`, same origin as the API, so it
 * needs no CORS. Unknown non-API GETs get index.html (the app routes on the client).
 */
export async function serveWebClient(app: FastifyInstance, dir: string): Promise<void> {
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html')))
    throw new Error(`WEB_CLIENT_DIR=${dir} has no index.html (build it: npm run build -w apps/web)`);
  app.addHook('onSend', async (req, reply, payload) => {
    if (!isApi(req.url)) {
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
    }
    return payload;
  });
  await app.register(fastifyStatic, { root, index: 'index.html', wildcard: false, maxAge: '1h' });
}

export function isApi(url: string): boolean {
  return API_PREFIXES.some((p) => url.startsWith(p));
}

/** The not-found answer for a client-side route: the app's entry page (never cached). */
export function sendAppShell(req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  if (req.method !== 'GET' || isApi(req.url)) return undefined;
  return reply.header('cache-control', 'no-cache').sendFile('index.html');
}
