import { startTelemetry } from '@im/platform/telemetry';

startTelemetry('media');
await import('./service.js');
