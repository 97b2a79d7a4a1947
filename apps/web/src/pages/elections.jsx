// The elections: open, upcoming, closed, with candidates, dates and ballot kind.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Page, ErrorBox, Loading, fmtDate, phaseOf, usePoll } from '../ui.jsx';

function ElectionCard({ e }) {
  const phase = phaseOf(e);
  return (
    <li class="card">
      <h3>{e.name}</h3>
      {e.description && <p>{e.description}</p>}
      <p class="meta">
        <span class={`badge ${phase}`}>{phase === 'open' ? 'Open now' : phase === 'upcoming' ? 'Not open yet' : 'Closed'}</span>{' '}
        {e.ballot === 'encrypted' ? <span class="badge sealed">Secret ballot</span> : null}
      </p>
      <p class="meta">
        {fmtDate(e.start_date)} – {fmtDate(e.end_date)}
      </p>
      <details>
        <summary>{e.candidates.length} candidate{e.candidates.length === 1 ? '' : 's'}</summary>
        <ul>
          {e.candidates.map((c) => <li key={c.id}>{c.name}</li>)}
        </ul>
      </details>
      <p class="actions">
        {phase === 'open' && <a class="button primary" href={`#/vote/${e.id}`}>Vote<span class="sr-only"> in {e.name}</span></a>}
        <a class="button" href={`#/results/${e.id}`}>Results<span class="sr-only"> of {e.name}</span></a>
      </p>
    </li>
  );
}

export function Elections() {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  usePoll(async (signal) => {
    try {
      setList(await api('/api/elections', { signal }));
      setError(null);
    } catch (e) {
      if (e.name !== 'AbortError') setError(e);
    }
  }, 30000, []);
  const groups = { open: [], upcoming: [], closed: [] };
  for (const e of list ?? []) groups[phaseOf(e)].push(e);
  return (
    <Page title="Elections">
      <ErrorBox error={error} />
      {!list && !error && <Loading />}
      {list && list.length === 0 && <p>There are no elections yet.</p>}
      {[['open', 'Open now'], ['upcoming', 'Coming up'], ['closed', 'Closed']].map(([k, label]) =>
        groups[k].length ? (
          <section key={k} aria-labelledby={`h-${k}`}>
            <h2 id={`h-${k}`}>{label}</h2>
            <ul class="cards">
              {groups[k].map((e) => <ElectionCard key={e.id} e={e} />)}
            </ul>
          </section>
        ) : null,
      )}
    </Page>
  );
}
