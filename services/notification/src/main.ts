import { startTelemetry } from '@im/platform/telemetry';

startTelemetry('notification');
await import('./service.js');
