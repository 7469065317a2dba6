import 'reflect-metadata';
import type { DynamicModule, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { loadConfigOrExit, type BaseConfig, type EnvSchema } from '../config/index.js';
import {
  GrpcServer,
  grpcCallersOf,
  loadGrpcIdentity,
  useGrpcIdentity,
  type ServiceBinding,
} from '../grpc/index.js';
import { HealthServer } from '../health/index.js';
import { createLogger, NestPinoLogger } from '../logging/index.js';
import { Readiness } from '../nest/readiness.js';
import { telemetry } from '../telemetry/index.js';

/** A server at the edge of the process (gRPC, the gateway's HTTP/WebSocket): started last, stopped first. */
export interface EdgeServer {
  readonly name: string;
  start(): Promise<void>;
  /** Stops accepting, lets in-flight work finish within timeoutMs. */
  stop(timeoutMs: number): Promise<void>;
  /** For the start-up log line, e.g. { grpcPort: 50051 }. */
  describe?(): Record<string, unknown>;
}

export interface RunServiceOptions<S extends EnvSchema> {
  name: string;
  schema: S;
  module(config: z.output<S>, logger: Logger): DynamicModule;
  /** gRPC services served on GRPC_PORT (with the health protocol). */
  grpc?(app: INestApplicationContext): ServiceBinding[];
  /** Other edge servers, e.g. the gateway's HTTP + WebSocket server. */
  servers?(app: INestApplicationContext, config: z.output<S>): EdgeServer[];
}

export interface RunningService {
  readonly app: INestApplicationContext;
  readonly logger: Logger;
  readonly ports: Record<string, number>;
  stop(reason: string): Promise<void>;
}

/**
 * The life of a service process: config (exit 78 naming the variable when invalid), logger,
 * Nest context (connections, migrations, consumers), edge servers, health server; on SIGTERM or
 * SIGINT: readiness 503, edge servers drain, the work stops, connections close, exit 0.
 * Any start-up failure logs one fatal line that says what failed and exits 1.
 */
export async function runService<S extends EnvSchema>(
  options: RunServiceOptions<S>,
): Promise<RunningService> {
  const config = loadConfigOrExit(options.name, options.schema) as z.output<S> & BaseConfig;
  const logger = createLogger(options.name, config.LOG_LEVEL);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));
  // a migration job serves and calls nothing; neither do processes without gRPC
  const onInternalPlane =
    options.grpc !== undefined || Object.keys(config).some((k) => k.endsWith('_GRPC_ADDR'));
  if (onInternalPlane && !config.MIGRATE_ONLY) useInternalIdentity(options.name, config, logger);

  let app: INestApplicationContext | undefined;
  const servers: EdgeServer[] = [];
  let health: HealthServer | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      const timeoutMs = config.SHUTDOWN_TIMEOUT_MS;
      const killer = setTimeout(() => {
        logger.error({ timeoutMs }, 'shutdown took too long, exiting');
        process.exit(1);
      }, timeoutMs + 5_000);
      killer.unref();
      logger.info({ reason }, 'shutting down');
      health?.markDraining();
      for (const server of [...servers].reverse()) {
        try {
          await server.stop(timeoutMs);
        } catch (err) {
          logger.warn({ err, server: server.name }, 'error while stopping server');
        }
      }
      await app?.close();
      await health?.stop();
      await telemetry()?.shutdown();
      logger.info('stopped');
    })();
    return stopping;
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void stop(signal).then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }

  const ports: Record<string, number> = {};
  try {
    app = await NestFactory.createApplicationContext(options.module(config, logger), {
      logger: new NestPinoLogger(logger),
      abortOnError: false,
    });
    if (config.MIGRATE_ONLY) {
      // the connections (and with them the keyspace and its migrations) exist once the context does
      logger.info('migrations applied (MIGRATE_ONLY): exiting');
      await app.close();
      process.exit(0);
    }
    await app.init();
    const readiness = app.get(Readiness);
    health = new HealthServer({
      port: config.HTTP_PORT,
      logger,
      checks: () => readiness.checks(),
      metrics: telemetry()?.metricsHandler,
    });
    ports.httpPort = await health.start();
    if (options.grpc) {
      const grpcPort = (config as { GRPC_PORT?: number }).GRPC_PORT ?? 0;
      const grpc = new GrpcServer({
        port: grpcPort,
        logger,
        services: options.grpc(app),
        allowedCallers: grpcCallersOf(options.name),
      });
      servers.push({
        name: 'grpc',
        start: async () => {
          ports.grpcPort = await grpc.start();
        },
        stop: (ms) => grpc.shutdown(ms),
      });
    }
    servers.push(...(options.servers?.(app, config) ?? []));
    for (const server of servers) {
      await server.start();
      Object.assign(ports, server.describe?.() ?? {});
    }
    health.markStarted();
  } catch (err) {
    logger.fatal({ err }, `start-up failed: ${(err as Error).message}`);
    await Promise.race([app?.close().catch(() => undefined), new Promise((r) => setTimeout(r, 3_000))]);
    process.exit(1);
  }
  logger.info({ ...ports }, `${options.name} ready`);
  return { app, logger, ports, stop };
}

/**
 * The process's mTLS identity for the internal plane (GRPC_TLS_DIR), checked to name this service;
 * without one, start only where plaintext is explicitly allowed. Exits 78 (EX_CONFIG) otherwise.
 */
function useInternalIdentity(service: string, config: BaseConfig, logger: Logger): void {
  const fail = (message: string) => {
    logger.fatal(message);
    process.exit(78);
  };
  if (!config.GRPC_TLS_DIR) {
    if (!config.GRPC_ALLOW_PLAINTEXT)
      fail('GRPC_TLS_DIR is required: services authenticate each other (or GRPC_ALLOW_PLAINTEXT=true)');
    logger.warn('GRPC_ALLOW_PLAINTEXT: gRPC without TLS, callers are not authenticated');
    return;
  }
  let identity;
  try {
    identity = loadGrpcIdentity(config.GRPC_TLS_DIR);
  } catch (err) {
    return fail(`GRPC_TLS_DIR: ${(err as Error).message}`);
  }
  if (identity.name !== service)
    fail(`GRPC_TLS_DIR: the certificate names "${identity.name}", this is the ${service} service`);
  useGrpcIdentity(identity);
}
