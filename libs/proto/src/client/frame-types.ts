import type { ClientFrame, ServerFrame } from '../gen/im/client/v1/frames.js';

/**
 * The WebSocket frames as TypeScript types, derived from the ClientFrame and ServerFrame catalogues
 * in proto/im/client/v1/frames.proto: one definition per frame. A catalogue field's name is the
 * frame's "type" with "_" read as "." (messageSend → "message.send"); frameCatalogue() in
 * json-schema.ts does the same at run time.
 */
type Dotted<S extends string> = S extends `${infer H}${infer T}`
  ? H extends Lowercase<H>
    ? `${H}${Dotted<T>}`
    : `.${Lowercase<H>}${Dotted<T>}`
  : S;

/** The proto3 JSON mapping may leave out an empty repeated field: on the wire, lists are optional. */
type Wire<V> = { [K in keyof V as V[K] extends readonly unknown[] ? never : K]: V[K] } & {
  [K in keyof V as V[K] extends readonly unknown[] ? K : never]?: V[K];
};

type Framed<U> = U extends { $case: infer C extends string; value: infer V }
  ? Wire<Omit<V, 'type'>> & { type: Dotted<C> }
  : never;

/** Every frame a client may send, discriminated by `type`. */
export type AnyClientFrame = Framed<NonNullable<ClientFrame['frame']>>;
export type ClientFrameType = AnyClientFrame['type'];
export type ClientFrameOf<T extends ClientFrameType> = Extract<AnyClientFrame, { type: T }>;

/** Every frame the server sends, discriminated by `type`. */
export type AnyServerFrame = Framed<NonNullable<ServerFrame['frame']>>;
export type ServerFrameType = AnyServerFrame['type'];
export type ServerFrameOf<T extends ServerFrameType> = Extract<AnyServerFrame, { type: T }>;
