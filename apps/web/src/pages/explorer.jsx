// The public explorer: newest blocks (refreshed every 3 s), a block page with its
// transactions, a transaction page, validators with their health (GET /api/chain/validators):
// the set deciding the next block, which the page learns itself from the genesis and the
// validator-set changes (GET /api/chain/validator-changes, each checked as the verify page does).
import { useState } from 'preact/hooks';
import { api, fetchChanges } from '../api.js';
import { ValidatorSchedule, learnChanges, quorumOf } from '../lib/chain.js';
import { fromHex, toHex } from '../lib/bytes.js';
import { Page, ErrorBox, Loading, Hash, fmtDate, short, usePoll } from '../ui.jsx';

/// Time only for today's blocks, date and time otherwise.
function fmtTime(ms) {
  const d = new Date(ms);
  if (d.toDateString() === new Date().toDateString()) return d.toLocaleTimeString();
  return fmtDate(ms);
}

function Signers({ list }) {
  if (!list || list.length === 0) return <span class="muted">—</span>;
  return <span>{list.map((s) => (typeof s === 'object' ? s.name ?? s.validator : s)).join(', ')}</span>;
}

/// The validator sets the page itself checked: the genesis's, then each change the server passes
/// on (GET /api/chain/validator-changes), learned in order; {schedule, error} (error: why a change
/// was refused, the schedule then holds those before it).
async function validatorSets(g, signal) {
  const schedule = new ValidatorSchedule(g.genesis);
  try {
    const changes = await fetchChanges(undefined, { signal });
    if (changes) learnChanges(schedule, changes);
    return { schedule };
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    return { schedule, error: e.detail ?? e.message };
  }
}

/// The set deciding the next block (the genesis's until `sets` is learned) with each one's
/// health, and a set a final change schedules for later.
function Validators({ genesis, sets, head, health }) {
  const next = head === undefined ? undefined : BigInt(head) + 1n;
  const cur = sets && next !== undefined ? sets.schedule.at(next) : null;
  const members = cur ? cur.members.map((id) => ({ id, ...sets.schedule.registry[id] }))
    : genesis.genesis.validators.map((v, id) => ({ id, name: v.name, key: fromHex(v.public_key, 32) }));
  const later = cur ? sets.schedule.epochs.find((e) => e.from > next) : null;
  return (
    <section aria-labelledby="val-h">
      <h2 id="val-h">Validators</h2>
      <p>
        They sign every block; {quorumOf(members.length)} of {members.length} signatures make a block final.
        Chain {String(genesis.chain_id)}, genesis hash <code class="hash">{genesis.genesis_hash}</code>.
        {sets?.schedule.changes > 0 && ` The set changed ${sets.schedule.changes} time(s) since the genesis; this page checked each change (approved by a quorum of the set before it, in a block that set signed final).`}
      </p>
      {sets?.error && <p class="notice" role="status">A validator-set change the server sent does not check ({sets.error}): shown is the set before it.</p>}
      <ul class="validators">
        {members.map((v) => {
          const st = health?.validators?.find((x) => x.node_id === v.name);
          return (
            <li key={v.id}>
              {v.name} <span class="muted small">(id {v.id})</span>
              {st && <span class={`badge v-${st.status}`}> {st.status}, block {st.block_height}</span>}{' '}
              <code class="hash muted small">{toHex(v.key)}</code>
            </li>
          );
        })}
      </ul>
      {later && (
        <p class="meta">From block {String(later.from)}: {later.members.map((id) => sets.schedule.registry[id].name).join(', ')} (a change already final).</p>
      )}
    </section>
  );
}

export function Explorer() {
  const [data, setData] = useState(null);
  const [health, setHealth] = useState(null);
  const [genesis, setGenesis] = useState(null);
  const [error, setError] = useState(null);
  const [sets, setSets] = useState(null);
  usePoll(async (signal) => {
    const g = await api('/api/chain/genesis', { signal });
    setGenesis(g);
    setSets(await validatorSets(g, signal));
  }, 0, []);
  usePoll(async (signal) => {
    try {
      const [b, h] = await Promise.all([
        api('/api/chain/blocks?limit=20', { signal }),
        api('/api/chain/validators', { signal }).catch(() => null),
      ]);
      setData(b);
      setHealth(h);
      setError(null);
    } catch (e) {
      if (e.name !== 'AbortError') setError(e);
    }
  }, 3000, []);
  return (
    <Page title="Explorer">
      <p>
        Every block of the chain is public: its votes appear as tracking codes only, never with a name or a
        choice. Blocks update every 3 seconds.
      </p>
      {health && (
        <p class="meta" aria-live="polite">
          Validators healthy: {health.summary?.healthy ?? '?'} of {health.summary?.total ?? '?'}
        </p>
      )}
      <ErrorBox error={error} />
      {!data && !error && <Loading />}
      {data && (
        <>
          <p class="meta">Latest final block: <strong>{data.height}</strong></p>
          <div class="table-wrap">
            <table class="blocks">
              <caption class="sr-only">Newest blocks first</caption>
              <thead>
                <tr>
                  <th scope="col">Block</th><th scope="col">Time</th><th scope="col" class="hide-sm">Proposer</th>
                  <th scope="col">Votes</th><th scope="col">Signed final by</th><th scope="col" class="hide-sm">Hash</th>
                </tr>
              </thead>
              <tbody>
                {data.blocks.map((b) => (
                  <tr key={b.hash}>
                    <th scope="row"><a href={`#/block/${b.height}`}>{b.height}</a></th>
                    <td>{fmtTime(b.timestamp_ms)}</td>
                    <td class="hide-sm">{b.proposer}</td>
                    <td class="num">{b.tx_count}</td>
                    <td><Signers list={b.signers} /></td>
                    <td class="hide-sm"><Hash value={short(b.hash)} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {genesis?.genesis?.validators && <Validators genesis={genesis} sets={sets} head={data?.height} health={health} />}
      <form onSubmit={(e) => { e.preventDefault(); const h = e.currentTarget.elements.h.value.trim(); if (h) location.hash = `#/block/${h}`; }}>
        <div class="field">
          <label for="h">Go to block number</label>
          <input id="h" name="h" type="number" min="0" inputMode="numeric" />
        </div>
        <button type="submit">Show block</button>
      </form>
    </Page>
  );
}

export function Block({ height }) {
  const [b, setB] = useState(null);
  const [error, setError] = useState(null);
  usePoll(async (signal) => {
    try {
      setB(await api(`/api/chain/blocks/${encodeURIComponent(height)}`, { signal }));
      setError(null);
    } catch (e) {
      if (e.name !== 'AbortError') setError(e);
    }
  }, 0, [height]);
  const h = Number(height);
  return (
    <Page title={`Block ${height}`}>
      <p class="actions">
        {h > 0 && <a class="button" href={`#/block/${h - 1}`}>Previous block</a>}
        <a class="button" href={`#/block/${h + 1}`}>Next block</a>
        <a class="button" href="#/explorer">All blocks</a>
      </p>
      <ErrorBox error={error} />
      {!b && !error && <Loading />}
      {b && (
        <>
          <dl class="facts">
            <dt>Hash</dt><dd><Hash value={b.hash} /></dd>
            <dt>Parent</dt><dd>{h > 0 ? <a href={`#/block/${h - 1}`}><Hash value={b.parent} /></a> : <Hash value={b.parent} />}</dd>
            <dt>Time</dt><dd>{fmtDate(b.timestamp_ms)}</dd>
            <dt>Proposer</dt><dd>{b.proposer}</dd>
            <dt>Round</dt><dd>{b.round ?? '—'}</dd>
            <dt>Transaction root</dt><dd><Hash value={b.tx_root ?? '—'} /></dd>
            <dt>Signed final by</dt><dd><Signers list={b.signers} /></dd>
          </dl>
          <h2>Transactions ({b.tx_count ?? b.transactions?.length ?? 0})</h2>
          {(b.transactions ?? []).length === 0 ? <p>No transactions in this block.</p> : (
            <ul class="txs">
              {b.transactions.map((t) => (
                <li key={t.hash}>
                  <a href={`#/tx/${t.hash}`}><Hash value={t.hash} /><span class="sr-only"> (transaction)</span></a>
                  <span class="muted"> {t.kind}{t.election_id !== undefined && t.election_id !== null ? `, election ${t.election_id}` : ''}</span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Page>
  );
}

/// One transaction: where it is (from its proof), what it is (from its block), and a link to check it.
export function Transaction({ hash }) {
  const [t, setT] = useState(null);
  const [error, setError] = useState(null);
  usePoll(async (signal) => {
    try {
      const p = await api(`/api/votes/proof?transaction_id=${encodeURIComponent(hash)}`, { signal });
      const b = await api(`/api/chain/blocks/${p.block_number}`, { signal });
      const tx = (b.transactions ?? []).find((x) => x.hash === hash) ?? {};
      setT({ ...tx, block: b.height, time: b.timestamp_ms, index: p.index, count: p.tx_count, signers: b.signers });
      setError(null);
    } catch (e) {
      if (e.name !== 'AbortError') setError(e);
    }
  }, 0, [hash]);
  return (
    <Page title="Transaction">
      <p><Hash value={hash} /></p>
      <ErrorBox error={error} />
      {!t && !error && <Loading />}
      {t && (
        <>
          <dl class="facts">
            <dt>Kind</dt><dd>{t.kind ?? '—'}</dd>
            <dt>Election</dt><dd>{t.election_id ?? '—'}</dd>
            <dt>Voter tag</dt><dd>{t.voter_tag ? <Hash value={t.voter_tag} /> : '—'}</dd>
            <dt>Block</dt><dd><a href={`#/block/${t.block}`}>{t.block}</a>, position {t.index} of {t.count}</dd>
            <dt>Time</dt><dd>{fmtDate(t.time)}</dd>
            <dt>Signed final by</dt><dd><Signers list={t.signers} /></dd>
          </dl>
          <p>A voter tag is not a name: only the backend that made it can link it to an account, and a secret
            ballot shows no choice at all.</p>
          <p><a class="button primary" href={`#/verify?tx=${hash}`}>Check it yourself</a></p>
        </>
      )}
    </Page>
  );
}
