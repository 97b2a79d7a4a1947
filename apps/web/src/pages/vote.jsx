// The ballot: login checked before the booth; choose → review (can change) → cast.
// Secret-ballot elections are sealed here, inside "Cast my vote": the backend never sees the choice.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, TX_RE } from '../api.js';
import { session, myVotes } from '../store.js';
import { plainSubmission, sealedSubmission } from '../lib/submit.js';
import { Page, ErrorBox, Loading, fmtDate, phaseOf, navigate } from '../ui.jsx';

export function Vote({ id }) {
  const [state, setState] = useState({ phase: 'checking' });
  const [choice, setChoice] = useState(null);
  const [step, setStep] = useState('choose');
  const [error, setError] = useState(null);
  const [already, setAlready] = useState(null);
  const [busy, setBusy] = useState(false);
  const firstStep = useRef(true);
  useEffect(() => {
    // keep keyboard and screen-reader users in place when the step changes
    if (firstStep.current) {
      firstStep.current = false;
      return;
    }
    const el = step === 'review' ? document.getElementById('review-h') : document.querySelector('input[name=candidate]:checked');
    el?.focus();
  }, [step]);

  useEffect(() => {
    let live = true;
    (async () => {
      if (!session.token()) {
        navigate(`#/login?next=${encodeURIComponent(`#/vote/${id}`)}`);
        return;
      }
      try {
        const me = await api('/api/auth/me', { auth: true });
        session.set(session.token(), me);
      } catch (e) {
        if (e.status === 401) {
          navigate(`#/login?next=${encodeURIComponent(`#/vote/${id}`)}`);
          return;
        }
        if (live) setState({ phase: 'error', error: e });
        return;
      }
      try {
        const election = await api(`/api/elections/${encodeURIComponent(id)}`);
        let ctx = null;
        if (election.ballot === 'encrypted' && phaseOf(election) === 'open') {
          try {
            ctx = await api(`/api/elections/${encodeURIComponent(id)}/ballot`, { auth: true });
          } catch (e) {
            if (e.status === 409) {
              if (live) setState({ phase: 'not-ready', election, detail: e.detail });
              return;
            }
            throw e;
          }
        }
        if (live) setState({ phase: 'ready', election, ctx });
      } catch (e) {
        if (live) setState({ phase: 'error', error: e });
      }
    })();
    return () => {
      live = false;
    };
  }, [id]);

  if (state.phase === 'checking') return <Page title="Your ballot"><Loading what="Checking that you are logged in" /></Page>;
  if (state.phase === 'error') return <Page title="Your ballot"><ErrorBox error={state.error} /><p><a href="#/">Back to the elections</a></p></Page>;
  const e = state.election;
  if (state.phase === 'not-ready')
    return (
      <Page title={e.name}>
        <p class="notice" role="status">
          The validators are still preparing the key that seals the ballots of this election. Try again in a minute.
        </p>
        <p class="muted">{state.detail}</p>
      </Page>
    );
  const phase = phaseOf(e);
  if (phase !== 'open')
    return (
      <Page title={e.name}>
        <p class="notice">
          {phase === 'upcoming' ? `Voting opens ${fmtDate(e.start_date)}.` : `Voting closed ${fmtDate(e.end_date)}.`}
        </p>
        <p><a href={`#/results/${e.id}`}>See the results</a></p>
      </Page>
    );

  // ballot order: the context's for a sealed ballot, the election's otherwise
  const candidates = state.ctx?.candidates ?? e.candidates;
  const chosen = candidates.find((c) => Number(c.id) === Number(choice));
  const sealed = e.ballot === 'encrypted';

  const cast = async () => {
    setBusy(true);
    setError(null);
    setAlready(null);
    try {
      const body = sealed ? sealedSubmission(state.ctx, choice) : plainSubmission(e.id, choice);
      const r = await api('/api/votes/submit', { method: 'POST', body, auth: true });
      myVotes.add({ tx: r.transaction_id, electionId: e.id, electionName: e.name, warning: r.warning ?? null, source: r.source ?? null });
      navigate(`#/receipt/${r.transaction_id}?e=${e.id}`);
    } catch (err) {
      if (err.status === 409) {
        const tx = (err.detail.match(TX_RE) || [])[0];
        setAlready({ detail: err.detail, tx });
        if (tx) myVotes.add({ tx, electionId: e.id, electionName: e.name });
      } else if (err.status === 401) {
        navigate(`#/login?next=${encodeURIComponent(`#/vote/${id}`)}`);
      } else {
        setError(err.detail ? err : err.message);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={e.name}>
      <p class="meta">Open until {fmtDate(e.end_date)}</p>
      {sealed && (
        <div class="notice">
          <p>Your choice is sealed so nobody can read it; only the total is counted.</p>
          <details>
            <summary>How?</summary>
            <p>
              Your device locks your choice with the election's key before it is sent, and adds proofs that it
              is one valid choice. The key is split between the validators: no single one of them, and not this
              website's server, can open your vote. After the election ends they open only the totals.
            </p>
          </details>
        </div>
      )}
      {already && (
        <div class="error" role="alert">
          <p>You have already voted in this election.</p>
          {already.tx && <p><a href={`#/receipt/${already.tx}?e=${e.id}`}>See your tracking code and its status</a></p>}
        </div>
      )}
      {step === 'choose' ? (
        <form onSubmit={(ev) => { ev.preventDefault(); if (choice !== null) setStep('review'); }}>
          <fieldset>
            <legend>Choose one candidate</legend>
            {candidates.map((c) => (
              <div class="choice" key={c.id}>
                <input type="radio" id={`c-${c.id}`} name="candidate" value={c.id} checked={Number(choice) === Number(c.id)}
                  onChange={() => setChoice(c.id)} />
                <label for={`c-${c.id}`}>{c.name}</label>
              </div>
            ))}
          </fieldset>
          <button type="submit" class="primary" disabled={choice === null}>Review my choice</button>
        </form>
      ) : (
        <div>
          <h2 id="review-h" tabIndex={-1}>Check your choice</h2>
          <p class="review">You are voting for <strong>{chosen?.name}</strong>.</p>
          <p>When you cast it, your vote is final: you cannot vote again in this election.</p>
          <div class="actions">
            <button type="button" class="primary" onClick={cast} disabled={busy}>
              {busy ? (sealed ? 'Sealing and sending…' : 'Sending…') : 'Cast my vote'}
            </button>
            <button type="button" onClick={() => setStep('choose')} disabled={busy}>Change my choice</button>
          </div>
          <div aria-live="polite">{busy && <p class="muted">Sending your vote…</p>}</div>
          <ErrorBox error={error} />
        </div>
      )}
    </Page>
  );
}
