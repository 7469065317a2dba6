import { ApiError, type ImClient, type MfaChallenge } from '@im/sdk';
import { useState } from 'preact/hooks';
import { newClient } from '../session.js';
import { MfaStep } from './mfa-step.js';

const MESSAGES: Record<string, string> = {
  invalid_credentials: 'Wrong username or password.',
  username_taken: 'That username is taken.',
  invite_required: 'This workspace takes new people by invite only.',
  invalid_invite: 'The invite is unknown, expired or already used.',
  account_disabled: 'This account is disabled.',
  rate_limited: 'Too many attempts: wait a moment.',
};

export function LoginView({ onLoggedIn }: { onLoggedIn(client: ImClient): void }) {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [tenant, setTenant] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [invite, setInvite] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [secondStep, setSecondStep] = useState<{ client: ImClient; challenge: MfaChallenge }>();

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError('');
    const client = newClient(tenant.trim());
    try {
      if (mode === 'login') await client.login(username, password);
      else await client.register(username, password, displayName || undefined, invite || undefined);
      onLoggedIn(client);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'mfa_required' && err.mfa) {
        setSecondStep({ client, challenge: err.mfa });
        return;
      }
      setError(err instanceof ApiError ? (MESSAGES[err.code] ?? err.message) : String(err));
    } finally {
      setBusy(false);
    }
  }

  if (secondStep)
    return (
      <MfaStep
        client={secondStep.client}
        challenge={secondStep.challenge}
        onDone={() => onLoggedIn(secondStep.client)}
        onRestart={() => {
          setSecondStep(undefined);
          setPassword('');
        }}
      />
    );

  return (
    <form class="login" onSubmit={submit} data-testid="login">
      <h1>{mode === 'login' ? 'Sign in' : 'Create an account'}</h1>
      <label>
        Workspace <small>(empty: the default one)</small>
        <input name="tenant" value={tenant} onInput={(e) => setTenant(e.currentTarget.value)} />
      </label>
      <label>
        Username
        <input
          name="username"
          required
          autoComplete="username"
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          required
          autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      {mode === 'register' && (
        <>
          <label>
            Display name
            <input
              name="displayName"
              value={displayName}
              onInput={(e) => setDisplayName(e.currentTarget.value)}
            />
          </label>
          <label>
            Invite <small>(if the workspace asks for one)</small>
            <input name="invite" value={invite} onInput={(e) => setInvite(e.currentTarget.value)} />
          </label>
        </>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {mode === 'login' ? 'Sign in' : 'Create account'}
      </button>
      <button type="button" class="link" onClick={() => setMode(mode === 'login' ? 'register' : 'login')}>
        {mode === 'login' ? 'New here? Create an account' : 'Have an account? Sign in'}
      </button>
    </form>
  );
}
