// The Forkline console: a single page over the admin API, routed by the URL's hash:
//   #/signin[?error=...]   #/ (tenants)   #/t/NAME[/branches|/tree|/backups]
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, setCsrfToken } from './api.js';
import { SignIn } from './pages/SignIn.jsx';
import { Tenants } from './pages/Tenants.jsx';
import { Tenant } from './pages/Tenant.jsx';
import './style.css';

function parseHash() {
  const h = window.location.hash.replace(/^#/, '') || '/';
  const [path, query] = h.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query || '') };
}

function App() {
  const [route, setRoute] = useState(parseHash());
  const [session, setSession] = useState(undefined); // undefined: loading, null: signed out
  const [error, setError] = useState(null);

  useEffect(() => {
    const on = () => setRoute(parseHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);

  const loadSession = () =>
    api('GET', '/v1/console/session')
      .then((s) => {
        setCsrfToken(s.csrf_token);
        setSession(s);
      })
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) setSession(null);
        else setError(e);
      });

  useEffect(() => {
    loadSession();
  }, []);

  const signOut = async () => {
    try {
      await api('DELETE', '/v1/console/session');
    } finally {
      setCsrfToken(null);
      setSession(null);
      window.location.hash = '#/signin';
    }
  };

  if (error) return <div class="page"><p class="error" role="alert">{error.code}: {error.message}</p></div>;
  if (session === undefined) return <div class="page">Loading…</div>;
  if (session === null || route.parts[0] === 'signin') {
    return <SignIn error={route.query.get('error')} session={session} onSignedIn={(s) => {
      setCsrfToken(s.csrf_token);
      setSession(s);
      window.location.hash = s.tenant ? `#/t/${encodeURIComponent(s.tenant)}` : '#/';
    }} />;
  }

  let page;
  if (route.parts[0] === 't' && route.parts[1]) {
    page = <Tenant name={route.parts[1]} tab={route.parts[2] || 'branches'} query={route.query} />;
  } else {
    page = <Tenants />;
  }
  return (
    <div>
      <header class="top">
        <a href="#/" class="brand">Forkline</a>
        <span class="who" data-testid="scope">signed in as {session.scope}{session.auth === 'off' ? ' (auth off)' : ''}</span>
        <button class="link" onClick={signOut}>Sign out</button>
      </header>
      <main class="page">{page}</main>
    </div>
  );
}

render(<App />, document.getElementById('app'));
