/** The password was right; a second factor completes the login. */
export interface MfaChallenge {
  mfaToken: string;
  expiresIn: number;
  /** false: the tenant requires MFA and the user has none yet: enrol (beginMfaEnrolment) first. */
  enrolled: boolean;
}

/** A failed request: the HTTP status (REST) or 0 (WebSocket), and the API's stable error code. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    readonly retryAfterMs?: number,
    /** With `mfa_required`: the second step of the login (ImClient.completeMfa). */
    readonly mfa?: MfaChallenge,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ApiError';
  }
}
