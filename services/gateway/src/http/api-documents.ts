import { z } from 'zod';
import { ERROR_CODES } from '@im/platform/errors';
import { clientSchemas, frameCatalogue } from '@im/proto/json-schema';
import { authFrame, wsFrames } from './request-schemas.js';
import type { Route } from './routes.js';

const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
};

/** Component schemas: the public resources from the proto descriptors, plus the REST envelopes. */
function components(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const name of [
    'User',
    'Attachment',
    'Reaction',
    'Message',
    'Member',
    'Conversation',
    'Presence',
    'SearchResult',
    'Pin',
    'PinnedMessage',
    'Receipt',
    'Media',
    'Thumbnail',
    'MultipartUpload',
    'UploadPartTarget',
    'UploadedPart',
    'Device',
    'WebPushSubscription',
    'WebPushKeys',
    'Webhook',
    'WebhookDeadLetter',
  ]) {
    schemas[name] = clientSchemas().get(name);
  }
  schemas.Error = {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: {
            type: 'string',
            enum: Object.keys(ERROR_CODES),
            description: 'stable, snake_case; switch on it',
          },
          message: { type: 'string', description: 'for humans; may change' },
          retryAfterMs: { type: 'integer', description: 'with rate_limited: when to retry' },
        },
      },
    },
  };
  schemas.AuthResult = {
    type: 'object',
    properties: {
      user: { $ref: '#/components/schemas/User' },
      accessToken: { type: 'string', description: 'JWT (EdDSA); send as Authorization: Bearer' },
      refreshToken: { type: 'string', description: 'opaque; single use' },
      expiresIn: { type: 'integer', description: 'seconds until the access token expires' },
      deviceToken: {
        type: 'string',
        description:
          'a login’s (not a refresh’s): keep it on the device and send it with the next login, which strangers’ failures then do not hold back',
      },
    },
  };
  schemas.ConversationEnvelope = {
    type: 'object',
    properties: { conversation: { $ref: '#/components/schemas/Conversation' } },
  };
  schemas.MediaEnvelope = {
    type: 'object',
    properties: { media: { $ref: '#/components/schemas/Media' } },
  };
  schemas.MessageEnvelope = {
    type: 'object',
    properties: { message: { $ref: '#/components/schemas/Message' } },
  };
  return schemas;
}

function responseSchema(r: string | Record<string, unknown>): Record<string, unknown> {
  return typeof r === 'string' ? { $ref: `#/components/schemas/${r}` } : r;
}

export function openApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const name of [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!)) {
      parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    }
    if (r.query) {
      const q = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(r.responses)) {
      responses[status] =
        status === '204'
          ? { description: 'no content' }
          : {
              description: status.startsWith('2') ? 'ok' : 'error',
              content: { 'application/json': { schema: responseSchema(schema) } },
            };
    }
    responses['400'] ??= {
      description: 'invalid input',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
    if (r.auth)
      responses['401'] ??= {
        description: 'missing, invalid or revoked token',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.auth ? { security: [{ bearer: [] }] } : { security: [] }),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: !r.body.safeParse(undefined).success,
              content: { 'application/json': { schema: jsonSchema(r.body) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'IM platform public API',
      version: '1.0.0',
      description:
        'REST API of the gateway. Errors are {"error":{"code","message"}} with stable codes. The WebSocket protocol at GET /v1/ws is described by /v1/asyncapi.json and docs/protocol.md.',
    },
    components: {
      schemas: components(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  };
}

/** AsyncAPI 3 description of the WebSocket frames at /v1/ws. */
export function asyncApiDocument(): Record<string, unknown> {
  const proto = clientSchemas();
  const messages: Record<string, unknown> = {};
  const send: unknown[] = [];
  const receive: unknown[] = [];
  const add = (name: string, payload: unknown, into: unknown[]) => {
    messages[name] = { name, payload };
    into.push({ $ref: `#/channels/ws/messages/${name}` });
  };
  add('auth', jsonSchema(authFrame), send);
  for (const [type, schema] of Object.entries(wsFrames)) add(type, jsonSchema(schema), send);
  for (const f of frameCatalogue().server) add(`server.${f.type}`, proto.get(f.message), receive);
  const schemas: Record<string, unknown> = {};
  for (const [name, schema] of proto) schemas[name] = schema;
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'IM platform WebSocket protocol',
      version: '1.0.0',
      description: 'JSON text frames; see docs/protocol.md',
    },
    channels: { ws: { address: '/v1/ws', messages } },
    operations: {
      clientSends: { action: 'receive', channel: { $ref: '#/channels/ws' }, messages: send },
      serverSends: { action: 'send', channel: { $ref: '#/channels/ws' }, messages: receive },
    },
    components: { schemas },
  };
}
