import { ApiError, type ImClient, type MfaChallenge } from '@im/sdk';
import { useEffect, useState } from 'preact/hooks';

const MESSAGES: Record<string, string> = {
  invalid_mfa_code: 'That code is not right (or was used already).',
  invalid_mfa_token: 'This sign-in expired: start again.',
  rate_limited: 'Too many wrong codes: wait a few minutes.',
};

/**
 * The second step of a sign-in: an authenticator code (or a recovery code). When the workspace
 * requires a second factor the user has not set up, it shows the new secret first and, once the
 * first code is right, the recovery codes.
 */
export function MfaStep({
  client,
  challenge,
  onDone,
  onRestart,
}: {
  client: ImClient;
  challenge: MfaChallenge;
  onDone(): void;
  onRestart(): void;
}) {
  const [enrolment, setEnrolment] = useState<{ secret: string; uri: string }>();
  const [recoveryCodes, setRecoveryCodes] = useState<string[]>();
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (challenge.enrolled) return;
    client
      .beginMfaEnrolment({ mfaToken: challenge.mfaToken })
      .then(setEnrolment, (err: unknown) => setError(describe(err)));
  }, [client, challenge]);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const done = await client.completeMfa(challenge.mfaToken, code.trim());
      if (done.recoveryCodes?.length) setRecoveryCodes(done.recoveryCodes);
      else onDone();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  }

  if (recoveryCodes)
    return (
      <div class="login" data-testid="recovery-codes">
        <h1>Recovery codes</h1>
        <p>Each works once if you lose your phone. They are shown only now: keep them somewhere safe.</p>
        <ul class="recovery-codes">
          {recoveryCodes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        <button type="button" onClick={onDone}>
          I saved them
        </button>
      </div>
    );

  return (
    <form class="login" onSubmit={submit} data-testid="mfa">
      <h1>Two-step verification</h1>
      {!challenge.enrolled && (
        <p data-testid="mfa-enrol">
          This workspace requires an authenticator app. Add this key to it
          {enrolment && (
            <>
              : <code data-testid="mfa-secret">{enrolment.secret}</code> (or open{' '}
              <a href={enrolment.uri}>this link</a> on your phone)
            </>
          )}
          , then enter the code it shows.
        </p>
      )}
      <label>
        Code <small>(from your authenticator app, or a recovery code)</small>
        <input
          name="code"
          required
          autoComplete="one-time-code"
          inputMode="text"
          value={code}
          onInput={(e) => setCode(e.currentTarget.value)}
        />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy || (!challenge.enrolled && !enrolment)}>
        Verify
      </button>
      <button type="button" class="link" onClick={onRestart}>
        Start over
      </button>
    </form>
  );
}

function describe(err: unknown): string {
  return err instanceof ApiError ? (MESSAGES[err.code] ?? err.message) : String(err);
}
