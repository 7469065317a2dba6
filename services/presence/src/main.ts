import { startTelemetry } from '@im/platform/telemetry';

startTelemetry('presence');
await import('./service.js');
