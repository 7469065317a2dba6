import { startTelemetry } from '@im/platform/telemetry';

startTelemetry('message');
await import('./service.js');
