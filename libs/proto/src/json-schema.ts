import { readFileSync } from 'node:fs';

/**
 * JSON Schemas of the public messages (package im.client.v1), derived from the compiled proto
 * descriptors, comments included. The gateway's OpenAPI and AsyncAPI documents use them, so the
 * documented shapes are the proto's shapes by construction.
 */
interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName?: string;
  jsonName: string;
  proto3Optional?: boolean;
}

interface MessageDescriptor {
  name: string;
  field?: FieldDescriptor[];
}

interface FileDescriptor {
  name: string;
  package: string;
  messageType?: MessageDescriptor[];
  sourceCodeInfo?: {
    location?: Array<{ path: number[]; leadingComments?: string; trailingComments?: string }>;
  };
}

export type JsonSchema = Record<string, unknown>;

let cache: Map<string, JsonSchema> | undefined;

/** Schemas of every im.client.v1 message by simple name ("Message", "MessageSendFrame", ...). */
export function clientSchemas(): Map<string, JsonSchema> {
  if (cache) return cache;
  cache = new Map();
  for (const file of clientFiles()) {
    const comments = commentsOf(file);
    for (const [mi, msg] of (file.messageType ?? []).entries()) {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [fi, f] of (msg.field ?? []).entries()) {
        const schema = fieldSchema(f);
        const doc = comments.get(`4.${mi}.2.${fi}`);
        properties[f.jsonName] = doc ? { ...schema, description: doc } : schema;
        if (!f.proto3Optional && f.type !== 'TYPE_MESSAGE') required.push(f.jsonName);
      }
      const doc = comments.get(`4.${mi}`);
      cache.set(msg.name, {
        type: 'object',
        ...(doc ? { description: doc } : {}),
        properties,
        ...(required.length ? { required } : {}),
      });
    }
  }
  return cache;
}

function clientFiles(): FileDescriptor[] {
  const url = new URL('../../src/gen/client-v1.descriptors.json', import.meta.url);
  const set = JSON.parse(readFileSync(url, 'utf8')) as { file: FileDescriptor[] };
  return set.file.filter((f) => f.package === 'im.client.v1');
}

/** A WebSocket frame: its "type" and the im.client.v1 message that describes it. */
export interface FrameType {
  type: string;
  message: string;
}

/**
 * The WebSocket frames by direction, from the ClientFrame and ServerFrame catalogue messages in
 * frames.proto: one field per frame, named like its "type" with "_" for ".".
 */
export function frameCatalogue(): { client: FrameType[]; server: FrameType[] } {
  const messages = clientFiles().flatMap((f) => f.messageType ?? []);
  const framesOf = (catalogue: string): FrameType[] => {
    const msg = messages.find((m) => m.name === catalogue);
    if (!msg) throw new Error(`im.client.v1.${catalogue} is missing from the descriptors`);
    return (msg.field ?? []).map((f) => ({
      type: f.name.replaceAll('_', '.'),
      message: f.typeName!.split('.').pop()!,
    }));
  };
  return { client: framesOf('ClientFrame'), server: framesOf('ServerFrame') };
}

/** $ref prefix used for message fields; documents put the schemas at this path. */
export const SCHEMA_REF_PREFIX = '#/components/schemas/';

function fieldSchema(f: FieldDescriptor): JsonSchema {
  const item = scalarSchema(f);
  return f.label === 'LABEL_REPEATED' ? { type: 'array', items: item } : item;
}

function scalarSchema(f: FieldDescriptor): JsonSchema {
  switch (f.type) {
    case 'TYPE_STRING':
      return { type: 'string' };
    case 'TYPE_BOOL':
      return { type: 'boolean' };
    case 'TYPE_INT32':
    case 'TYPE_UINT32':
    case 'TYPE_SINT32':
      return { type: 'integer', format: 'int32' };
    case 'TYPE_INT64':
    case 'TYPE_UINT64':
    case 'TYPE_SINT64':
      return { type: 'integer', format: 'int64' };
    case 'TYPE_DOUBLE':
    case 'TYPE_FLOAT':
      return { type: 'number' };
    case 'TYPE_BYTES':
      return { type: 'string', contentEncoding: 'base64' };
    case 'TYPE_MESSAGE': {
      if (f.typeName === '.google.protobuf.Timestamp') return { type: 'string', format: 'date-time' };
      const name = f.typeName!.split('.').pop()!;
      return { $ref: `${SCHEMA_REF_PREFIX}${name}` };
    }
    default:
      return {};
  }
}

function commentsOf(file: FileDescriptor): Map<string, string> {
  const out = new Map<string, string>();
  for (const loc of file.sourceCodeInfo?.location ?? []) {
    const text = (loc.leadingComments ?? loc.trailingComments ?? '').trim();
    if (text) out.set(loc.path.join('.'), text.replace(/\s*\n\s*/g, ' '));
  }
  return out;
}
