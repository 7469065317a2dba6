import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths that belong to the API: never answered with the web client's index.html. */
const API_PREFIXES = ['/v1/', '/.well-known/'];

/**
 * The app loads only its own files and talks to this origin (REST and WebSocket: 'self' covers
 * ws/wss of the same host) and to the S3 store, where it uploads and loads images through signed
 * URLs: `mediaOrigin` when configured, else any https origin.
 */
function contentSecurityPolicy(mediaOrigin: string | undefined): string {
  return [
    "default-src 'self'",
    `connect-src 'self' ${mediaOrigin ?? 'https:'}`,
    `img-src 'self' data: blob: ${mediaOrigin ?? 'https:'}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Serves the built reference web client (apps/web/dist) at `/`, same origin as the API, so it
 * needs no CORS. Unknown non-API GETs get index.html (the app routes on the client).
 */
export async function serveWebClient(
  app: FastifyInstance,
  dir: string,
  mediaOrigin: string | undefined,
): Promise<void> {
  const csp = contentSecurityPolicy(mediaOrigin);
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html')))
    throw new Error(`WEB_CLIENT_DIR=${dir} has no index.html (build it: npm run build -w apps/web)`);
  app.addHook('onSend', async (req, reply, payload) => {
    if (!isApi(req.url)) {
      reply.header('content-security-policy', csp);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
    }
    return payload;
  });
  // hashed assets are immutable; index.html must be fetched again after every deploy
  await app.register(fastifyStatic, {
    root,
    index: 'index.html',
    wildcard: false,
    maxAge: '1y',
    immutable: true,
    setHeaders: (res, path) => {
      if (path.endsWith('.html')) res.header('cache-control', 'no-cache');
    },
  });
}

export function isApi(url: string): boolean {
  return API_PREFIXES.some((p) => url.startsWith(p));
}

/** The not-found answer for a client-side route: the app's entry page (never cached). */
export function sendAppShell(req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  const path = req.url.split('?')[0]!;
  // a missing file (an asset of an older build) is a 404, not the app shell served as script
  if (req.method !== 'GET' || isApi(path) || /\.[a-z0-9]+$/i.test(path)) return undefined;
  return reply.header('cache-control', 'no-cache').sendFile('index.html');
}
