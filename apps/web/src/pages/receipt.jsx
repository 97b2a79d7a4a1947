// My vote: the tracking code (copy, print) and its live status pending → submitted → confirmed,
// pushed by server-sent events (GET /api/votes/events), polled every 2 s if those fail.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { myVotes } from '../store.js';
import { Page, ErrorBox, Hash, fmtDate, short } from '../ui.jsx';

const FINAL = new Set(['confirmed', 'rejected']);
const WORDS = {
  pending: 'Received — waiting to be sent to the validators',
  submitted: 'Sent — waiting for a block',
  confirmed: 'Counted — in a final block',
  rejected: 'Refused by the validators',
};

/// Follows a vote's status: EventSource first, polling as the fallback. Returns {status, mode, error}.
export function useVoteStatus(tx, electionId) {
  const [status, setStatus] = useState(null);
  const [mode, setMode] = useState('events');
  const [error, setError] = useState(null);
  useEffect(() => {
    const q = `transaction_id=${encodeURIComponent(tx)}${electionId ? `&election_id=${encodeURIComponent(electionId)}` : ''}`;
    let stopped = false;
    let es = null;
    let timer = null;
    const poll = async () => {
      try {
        const s = await api(`/api/votes/transaction-status?${q}`);
        if (stopped) return;
        setStatus(s);
        setError(null);
        if (FINAL.has(s.status)) return;
      } catch (e) {
        if (stopped) return;
        setError(e);
      }
      timer = setTimeout(poll, 2000);
    };
    const fallBack = () => {
      if (es) es.close();
      es = null;
      if (!stopped && timer === null) {
        setMode('polling');
        poll();
      }
    };
    if (typeof EventSource === 'function') {
      es = new EventSource(`/api/votes/events?${q}`);
      es.addEventListener('status', (ev) => {
        try {
          const s = JSON.parse(ev.data);
          setStatus(s);
          setError(null);
          if (FINAL.has(s.status)) {
            es.close();
            es = null;
          }
        } catch {
          fallBack();
        }
      });
      // the stream ends after confirmed/rejected (then we closed it already); any other error → poll
      es.onerror = () => {
        if (es) fallBack();
      };
    } else fallBack();
    return () => {
      stopped = true;
      if (es) es.close();
      clearTimeout(timer);
    };
  }, [tx, electionId]);
  return { status, mode, error };
}

function Steps({ status }) {
  const order = ['pending', 'submitted', 'confirmed'];
  const at = status === 'rejected' ? -1 : order.indexOf(status);
  return (
    <ol class="steps">
      {order.map((s, i) => (
        <li key={s} class={i < at ? 'done' : i === at ? 'now' : ''} aria-current={i === at ? 'step' : undefined}>
          {s === 'pending' ? 'Received' : s === 'submitted' ? 'Sent to the validators' : 'Counted in a final block'}
        </li>
      ))}
    </ol>
  );
}

export function Receipt({ tx, electionId }) {
  const mine = myVotes.find(tx);
  const eid = electionId ?? mine?.electionId;
  const { status, mode, error } = useVoteStatus(tx, eid);
  const [copied, setCopied] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(tx);
      setCopied('Tracking code copied.');
    } catch {
      const el = document.getElementById('tracking-code');
      const r = document.createRange();
      r.selectNodeContents(el);
      getSelection().removeAllRanges();
      getSelection().addRange(r);
      setCopied('Select and copy the highlighted code.');
    }
  };
  const s = status?.status;
  const fromStatus = status?.warning ?? (status?.source === 'fallback_chain' ? 'Vote recorded in local blockchain (PoA validators unreachable)' : null);
  // the submit answer's warning holds until the vote is final; after that it is history
  const warning = s === 'confirmed' ? null : fromStatus ?? mine?.warning;
  const wasWarned = s === 'confirmed' && mine?.warning;
  const [blockSigners, setBlockSigners] = useState(null);
  useEffect(() => {
    if (s !== 'confirmed' || status?.signers || status?.block_number === null || status?.block_number === undefined) return;
    // which validators signed the commit certificate: the block's public record
    api(`/api/chain/blocks/${encodeURIComponent(status.block_number)}`)
      .then((b) => setBlockSigners(b.signers ?? null))
      .catch(() => setBlockSigners(null));
  }, [s, status?.block_number]);
  const signers = status?.signers ?? blockSigners;
  return (
    <Page title="Your vote">
      {mine?.electionName && <p class="meta">Election: {mine.electionName}</p>}
      <div class="receipt">
        <h2>Your tracking code</h2>
        <p>Keep it: with it you can check, at any time and without logging in, that your vote is counted. It does not show what you voted.</p>
        <p id="tracking-code" class="code"><Hash value={tx} /></p>
        <div class="actions no-print">
          <button type="button" onClick={copy}>Copy the code</button>
          <button type="button" onClick={() => window.print()}>Print a receipt</button>
        </div>
        <p aria-live="polite" class="muted no-print">{copied}</p>
      </div>
      {warning && (
        <div class="warning" role="alert">
          <p><strong>The validators could not be reached when you voted.</strong> Your vote is safely stored and will be sent as soon as they answer; this page keeps updating.</p>
          <p class="muted">{warning}</p>
        </div>
      )}
      {wasWarned && <p class="ok">The validators have since received your vote, and it is final.</p>}
      <section aria-labelledby="status-h">
        <h2 id="status-h">Status</h2>
        <div aria-live="polite" role="status">
          <p class={`status ${s ?? 'unknown'}`}>{s ? WORDS[s] ?? s : 'Looking up your vote…'}</p>
        </div>
        {s && s !== 'rejected' && <Steps status={s} />}
        {s === 'rejected' && (
          <div class="error">
            <p>{status.detail ?? 'The validators refused this vote.'} You can vote again in this election.</p>
            {eid && <p><a href={`#/vote/${eid}`}>Vote again</a></p>}
          </div>
        )}
        {s === 'confirmed' && (
          <dl class="facts">
            <dt>Block</dt>
            <dd><a href={`#/block/${status.block_number}`}>{status.block_number}</a></dd>
            <dt>Block hash</dt>
            <dd><Hash value={status.block_hash} /></dd>
            {signers && (
              <>
                <dt>Signed final by</dt>
                <dd>{Array.isArray(signers) ? signers.map((x) => (typeof x === 'object' ? x.name ?? x.validator : x)).join(', ') : String(signers)}</dd>
              </>
            )}
          </dl>
        )}
        {s === 'confirmed' && (
          <p><a class="button primary" href={`#/verify?tx=${tx}`}>Check it yourself</a></p>
        )}
        <p class="muted small no-print">
          {mode === 'events' ? 'Updates arrive by themselves.' : 'Checking for updates every 2 seconds.'}
        </p>
        {error && mode === 'polling' && (
          <ErrorBox error={error.status === 404
            ? 'This server does not know this tracking code (yet). Check that it is complete; this page keeps looking.'
            : `Cannot reach the server right now (${error.detail ?? error.message}); still trying.`} />
        )}
      </section>
      <p class="print-only">Printed {fmtDate(Date.now())}. Check it at the Verify page with this code.</p>
    </Page>
  );
}

export function MyVotes() {
  const list = myVotes.list();
  const [code, setCode] = useState('');
  return (
    <Page title="My votes">
      <p>The tracking codes of the votes cast from this device. Your choices are not kept here.</p>
      {list.length === 0 && <p>No votes from this device yet.</p>}
      {list.length > 0 && (
        <ul class="cards">
          {list.map((v) => (
            <li class="card" key={v.tx}>
              <h3>{v.electionName ?? `Election ${v.electionId}`}</h3>
              <p class="meta">{fmtDate(v.at)}</p>
              <p><Hash value={short(v.tx, 14)} /></p>
              <p class="actions">
                <a class="button" href={`#/receipt/${v.tx}?e=${v.electionId}`}>Status<span class="sr-only"> of {v.tx}</span></a>
                <a class="button" href={`#/verify?tx=${v.tx}`}>Verify<span class="sr-only"> {v.tx}</span></a>
              </p>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={(e) => { e.preventDefault(); if (code.trim()) location.hash = `#/receipt/${code.trim()}`; }}>
        <div class="field">
          <label for="code">Follow a tracking code from another device</label>
          <input id="code" type="text" inputMode="text" spellcheck={false} autoComplete="off" value={code}
            placeholder="0x…" onInput={(e) => setCode(e.currentTarget.value)} />
        </div>
        <button type="submit">Show its status</button>
      </form>
    </Page>
  );
}
