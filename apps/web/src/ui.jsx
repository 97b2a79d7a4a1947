// Small shared pieces: routing helpers, polling, status regions, formatting.
import { useEffect, useRef, useState } from 'preact/hooks';

export function navigate(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

/// Parses "#/a/b?x=1" into {parts:['a','b'], query: URLSearchParams}.
export function parseHash(h) {
  const raw = (h || '').replace(/^#\/?/, '');
  const [p, q = ''] = raw.split('?');
  return { parts: p.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

/// Calls fn now and every `ms` while `active`; fn gets an AbortSignal. Returns nothing.
export function usePoll(fn, ms, deps, active = true) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!active) return undefined;
    let stop = false;
    let timer;
    let ctl;
    const tick = async () => {
      ctl = new AbortController();
      try {
        await saved.current(ctl.signal);
      } catch {
        /* the callback shows its own errors */
      }
      if (!stop && ms) timer = setTimeout(tick, ms);
    };
    tick();
    return () => {
      stop = true;
      clearTimeout(timer);
      ctl?.abort();
    };
  }, [...deps, active]);
}

export function Page({ title, children }) {
  useEffect(() => {
    document.title = `${title} — ballotchain`;
  }, [title]);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>{title}</h1>
      {children}
    </section>
  );
}

/// A polite live region: screen readers announce changes.
export function Live({ children, role }) {
  return (
    <div aria-live="polite" role={role}>
      {children}
    </div>
  );
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {typeof error === 'string' ? error : error.detail || error.message}
    </p>
  );
}

export function Loading({ what = 'Loading' }) {
  return <p class="muted" role="status">{what}…</p>;
}

export const fmtDate = (s) => {
  if (s === null || s === undefined || s === '') return '—';
  const d = typeof s === 'number' ? new Date(s) : new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
};

export const short = (h, n = 10) => (h && h.length > 2 * n + 3 ? `${h.slice(0, n)}…${h.slice(-6)}` : h);

/// "open" | "upcoming" | "closed" from the election's dates.
export function phaseOf(e, now = Date.now()) {
  const s = Date.parse(e.start_date);
  const t = Date.parse(e.end_date);
  if (e.is_active) return 'open';
  if (!Number.isNaN(s) && now < s) return 'upcoming';
  return 'closed';
}

/// A hash that wraps on small screens, monospace.
export function Hash({ value }) {
  return <code class="hash">{value}</code>;
}

export function useNow(ms = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
