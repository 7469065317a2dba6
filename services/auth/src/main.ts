import { startTelemetry } from '@im/platform/telemetry';

startTelemetry('auth');
await import('./service.js');
