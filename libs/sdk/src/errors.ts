/** A failed request: the HTTP status (REST) or 0 (WebSocket), and the API's stable error code. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    readonly retryAfterMs?: number,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ApiError';
  }
}
