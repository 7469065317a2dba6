/** Injection tokens of what PlatformModule provides. */
export const CONFIG = Symbol('im.config');
export const LOGGER = Symbol('im.logger');
export const REGISTRY = Symbol('im.registry');
export const INSTANCE_ID = Symbol('im.instance-id');
export const CASSANDRA = Symbol('im.cassandra');
export const KAFKA = Symbol('im.kafka');
export const PRODUCER = Symbol('im.kafka.producer');
export const NATS = Symbol('im.nats');
