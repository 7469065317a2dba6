import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameCatalogue } from '@im/proto/json-schema';
import { asyncApiDocument, openApiDocument } from './api-documents.js';
import { authFrame, wsFrames } from './request-schemas.js';
import { buildRoutes, type RouteDeps } from './routes.js';

// Handlers are not called here: the table is only read.
const routes = buildRoutes({} as RouteDeps);

describe('API documents', () => {
  it('OpenAPI documents every route of the route table, with its method', () => {
    const doc = openApiDocument(routes) as { paths: Record<string, Record<string, unknown>> };
    assert.ok(routes.length >= 15, `${routes.length} routes`);
    for (const r of routes) {
      const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
      assert.ok(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path} documented`);
    }
    const documented = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0);
    assert.equal(documented, routes.length, 'and nothing else');
  });

  it('a body is required unless its schema takes none (leaving needs no body)', () => {
    const doc = openApiDocument(routes) as {
      paths: Record<string, Record<string, { requestBody?: { required: boolean } }>>;
    };
    assert.equal(doc.paths['/v1/conversations/{id}/leave']!.post!.requestBody!.required, false);
    assert.equal(doc.paths['/v1/conversations/{id}/messages']!.post!.requestBody!.required, true);
  });

  it('the gateway validates exactly the client frames of the proto catalogue', () => {
    assert.ok(authFrame);
    assert.deepEqual(
      ['auth', ...Object.keys(wsFrames)].sort(),
      frameCatalogue()
        .client.map((f) => f.type)
        .sort(),
    );
  });

  it('AsyncAPI documents every frame of the proto catalogue, both directions', () => {
    const doc = asyncApiDocument() as { channels: { ws: { messages: Record<string, unknown> } } };
    const { client, server } = frameCatalogue();
    const expected = [...client.map((f) => f.type), ...server.map((f) => `server.${f.type}`)].sort();
    assert.deepEqual(Object.keys(doc.channels.ws.messages).sort(), expected);
  });
});
