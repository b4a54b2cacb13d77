// Sign-in: paste an admin or tenant token (or open the URL that `forkline console` prints).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorLine, useAction } from './common.jsx';

export function SignIn({ error, session, onSignedIn }) {
  const [token, setToken] = useState('');
  const [run, busy, err] = useAction();
  const submit = async (e) => {
    e.preventDefault();
    const s = await run(() => api('POST', '/v1/console/session', { token }));
    if (s) onSignedIn(s);
  };
  return (
    <div class="page narrow">
      <h1>Forkline console</h1>
      <p>Run <code>forkline console</code> on the server's machine and open the URL it prints, or paste a token
        (<code>forkline token create --tenant NAME</code>, or the admin token).</p>
      {error && <p class="error" role="alert">{error}</p>}
      {session && <p class="notice">This browser is already signed in as {session.scope}: <a href="#/">continue to the console</a>.</p>}
      <form onSubmit={submit}>
        <label>Token <textarea name="token" rows="4" value={token} onInput={(e) => setToken(e.target.value)} /></label>
        <button type="submit" disabled={busy || !token.trim()}>Sign in</button>
      </form>
      <ErrorLine error={err} />
    </div>
  );
}
