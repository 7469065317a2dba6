import { startTelemetry } from '@im/platform/telemetry';

startTelemetry('gateway');
await import('./service.js');
