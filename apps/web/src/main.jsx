// ballotchain web app: hash router, layout, navigation.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { session } from './store.js';
import { api } from './api.js';
import { parseHash, navigate } from './ui.jsx';
import { Login, Register } from './pages/auth.jsx';
import { Elections } from './pages/elections.jsx';
import { Vote } from './pages/vote.jsx';
import { Receipt, MyVotes } from './pages/receipt.jsx';
import { Verify } from './pages/verify.jsx';
import { Results } from './pages/results.jsx';
import { Explorer, Block, Transaction } from './pages/explorer.jsx';
import { Admin } from './pages/admin.jsx';
import { Privacy } from './pages/privacy.jsx';

function useHash() {
  const [h, setH] = useState(location.hash);
  useEffect(() => {
    const f = () => setH(location.hash);
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  return h;
}

function useSession() {
  const [s, setS] = useState(session.get());
  useEffect(() => session.subscribe(() => setS(session.get())), []);
  return s;
}

function route(hash, user) {
  const { parts, query } = parseHash(hash);
  const [a, b] = parts;
  switch (a) {
    case undefined:
    case 'elections':
      return <Elections />;
    case 'login':
      return <Login next={query.get('next')} />;
    case 'register':
      return <Register next={query.get('next')} />;
    case 'vote':
      return <Vote id={b} key={b} />;
    case 'receipt':
      return <Receipt tx={b} electionId={query.get('e')} key={b} />;
    case 'my-votes':
      return <MyVotes />;
    case 'verify':
      return <Verify tx={query.get('tx') ?? b ?? ''} key={query.get('tx') ?? b ?? ''} />;
    case 'results':
      return <Results id={b} key={b} />;
    case 'explorer':
      return <Explorer />;
    case 'block':
      return <Block height={b} key={b} />;
    case 'tx':
      return <Transaction hash={b} key={b} />;
    case 'admin':
      return <Admin user={user} />;
    case 'privacy':
      return <Privacy />;
    default:
      return (
        <section>
          <h1>Page not found</h1>
          <p><a href="#/">Go to the elections</a></p>
        </section>
      );
  }
}

const LINKS = [
  ['#/', 'Elections', (p) => !p || p === 'elections'],
  ['#/my-votes', 'My votes', (p) => p === 'my-votes' || p === 'receipt'],
  ['#/verify', 'Verify', (p) => p === 'verify'],
  ['#/explorer', 'Explorer', (p) => p === 'explorer' || p === 'block'],
];

function App() {
  const hash = useHash();
  const s = useSession();
  const user = s?.user;
  const page = parseHash(hash).parts[0];
  useEffect(() => {
    // move focus to the new page's heading so keyboard and screen-reader users land there
    const h = document.getElementById('page-title') || document.querySelector('main h1');
    if (h) {
      h.setAttribute('tabindex', '-1');
      h.focus({ preventScroll: false });
    }
  }, [hash]);
  const logout = async () => {
    try {
      await api('/api/auth/logout', { method: 'POST', auth: true });
    } catch {
      /* the token is dropped either way */
    }
    session.clear();
    navigate('#/');
  };
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">ballotchain</a>
        <nav aria-label="Main">
          <ul>
            {LINKS.map(([href, label, active]) => (
              <li key={href}>
                <a href={href} aria-current={active(page) ? 'page' : undefined}>{label}</a>
              </li>
            ))}
            {user?.is_admin && (
              <li><a href="#/admin" aria-current={page === 'admin' ? 'page' : undefined}>Admin</a></li>
            )}
          </ul>
        </nav>
        <div class="who">
          {user ? (
            <>
              <span class="muted">{user.email}</span>{' '}
              <button type="button" class="link" onClick={logout}>Log out</button>
            </>
          ) : (
            <a href="#/login">Log in</a>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>{route(hash, user)}</main>
      <footer class="foot">
        <p>
          Your choice is never shown to anyone. <a href="#/privacy">What is public?</a>
        </p>
      </footer>
    </>
  );
}

const root = document.getElementById('app');
root.textContent = ''; // the no-JavaScript message
render(<App />, root);
