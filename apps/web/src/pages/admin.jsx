// Administration: create an election, add candidates, validator health (auto-refresh 5 s),
// outbox state, key ceremony and tally of secret-ballot elections.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Page, ErrorBox, Loading, fmtDate, usePoll, phaseOf } from '../ui.jsx';

/// datetime-local value ("2026-12-03T10:30") → "2026-12-03T09:30:00Z" (UTC, the API's format).
export function toApiDate(local) {
  if (!local) return undefined;
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) return undefined;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function CreateElection({ onCreated }) {
  const [f, setF] = useState({ name: '', description: '', candidates: '', start: '', end: '', ballot: 'plain', keySeconds: '60' });
  const [msg, setMsg] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => {
    const v = e.currentTarget.value;
    setF((cur) => ({ ...cur, [k]: v }));  // from the latest state: events may come faster than renders
  };
  const submit = async (ev) => {
    ev.preventDefault();
    setError(null);
    setMsg(null);
    const candidates = f.candidates.split('\n').map((s) => s.trim()).filter(Boolean).map((name) => ({ name }));
    const body = { name: f.name.trim(), candidates, ballot: f.ballot };
    if (f.description.trim()) body.description = f.description.trim();
    if (f.start) body.start_date = toApiDate(f.start);
    if (f.end) body.end_date = toApiDate(f.end);
    if (f.ballot === 'encrypted' && f.keySeconds) body.key_ceremony_seconds = Number(f.keySeconds);
    setBusy(true);
    try {
      const e = await api('/api/elections', { method: 'POST', body, auth: true });
      setMsg(`Created election ${e.id}: ${e.name}.`);
      setF((cur) => ({ ...cur, name: '', description: '', candidates: '' }));
      onCreated();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit}>
      <div class="field"><label for="el-name">Name</label><input id="el-name" required value={f.name} onInput={set('name')} /></div>
      <div class="field"><label for="el-desc">Description (optional)</label><input id="el-desc" value={f.description} onInput={set('description')} /></div>
      <div class="field">
        <label for="el-cands">Candidates, one per line</label>
        <textarea id="el-cands" rows={4} value={f.candidates} onInput={set('candidates')} />
      </div>
      <div class="field"><label for="el-start">Start (your local time; empty: now)</label><input id="el-start" type="datetime-local" value={f.start} onInput={set('start')} /></div>
      <div class="field"><label for="el-end">End (empty: in 30 days)</label><input id="el-end" type="datetime-local" value={f.end} onInput={set('end')} /></div>
      <fieldset>
        <legend>Ballot</legend>
        <div class="choice"><input type="radio" id="b-plain" name="ballot" value="plain" checked={f.ballot === 'plain'} onChange={set('ballot')} /><label for="b-plain">Plain (the server counts the candidate)</label></div>
        <div class="choice"><input type="radio" id="b-enc" name="ballot" value="encrypted" checked={f.ballot === 'encrypted'} onChange={set('ballot')} /><label for="b-enc">Secret (sealed by the voter's device; candidates fixed)</label></div>
      </fieldset>
      {f.ballot === 'encrypted' && (
        <div class="field">
          <label for="el-key">Key ceremony time (seconds, 1–86400)</label>
          <input id="el-key" type="number" min="1" max="86400" value={f.keySeconds} onInput={set('keySeconds')} />
        </div>
      )}
      <button type="submit" class="primary" disabled={busy}>Create election</button>
      <div aria-live="polite">{msg && <p class="ok">{msg}</p>}</div>
      <ErrorBox error={error} />
    </form>
  );
}

function AddCandidate({ elections, onAdded }) {
  const plain = elections.filter((e) => e.ballot !== 'encrypted');
  const [eid, setEid] = useState('');
  const [name, setName] = useState('');
  const [msg, setMsg] = useState(null);
  const [error, setError] = useState(null);
  if (plain.length === 0) return <p>No plain election to add a candidate to (secret-ballot candidates are fixed).</p>;
  const submit = async (ev) => {
    ev.preventDefault();
    setError(null);
    setMsg(null);
    try {
      const id = eid || plain[0].id;
      const c = await api(`/api/elections/${id}/candidates`, { method: 'POST', body: { name: name.trim() }, auth: true });
      setMsg(`Added ${c.name}.`);
      setName('');
      onAdded();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <form onSubmit={submit}>
      <div class="field">
        <label for="ac-e">Election</label>
        <select id="ac-e" value={eid || plain[0].id} onChange={(e) => setEid(e.currentTarget.value)}>
          {plain.map((e) => <option key={e.id} value={e.id}>{e.id}: {e.name}</option>)}
        </select>
      </div>
      <div class="field"><label for="ac-n">Candidate name</label><input id="ac-n" required value={name} onInput={(e) => setName(e.currentTarget.value)} /></div>
      <button type="submit">Add candidate</button>
      <div aria-live="polite">{msg && <p class="ok">{msg}</p>}</div>
      <ErrorBox error={error} />
    </form>
  );
}

function Validators() {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  usePoll(async (signal) => {
    try {
      setData(await api('/api/admin/validators/health', { auth: true, signal }));
      setError(null);
    } catch (e) {
      if (e.name !== 'AbortError') setError(e);
    }
  }, 5000, []);
  const refresh = async () => {
    setBusy(true);
    try {
      setData(await api('/api/admin/validators/refresh-status', { method: 'POST', auth: true }));
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <p class="actions"><button type="button" onClick={refresh} disabled={busy}>{busy ? 'Probing…' : 'Probe all validators now'}</button></p>
      <ErrorBox error={error} />
      {!data && !error && <Loading />}
      {data && (
        <div aria-live="polite">
          <p>{data.summary.healthy} of {data.summary.total} healthy ({Math.round(data.summary.health_percentage)}%), {fmtDate(data.timestamp)}</p>
          <div class="table-wrap">
            <table>
              <thead><tr><th scope="col">Validator</th><th scope="col">Status</th><th scope="col">Height</th><th scope="col">Detail</th></tr></thead>
              <tbody>
                {data.validators.map((v) => (
                  <tr key={v.node_id}>
                    <th scope="row">{v.node_id}<div class="muted small">{v.rpc_url}</div></th>
                    <td><span class={`badge v-${v.status}`}>{v.status}</span></td>
                    <td class="num">{v.block_height ?? '—'}</td>
                    <td>{v.detail || ''}{v.misbehaviours ? ` (${v.misbehaviours} misbehaviours)` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </div>
  );
}

function Outbox() {
  const [h, setH] = useState(null);
  usePoll(async (signal) => {
    setH(await api('/health', { signal }));
  }, 5000, []);
  if (!h) return <Loading />;
  const by = h.outbox_by_status ?? {};
  return (
    <dl class="facts" aria-live="polite">
      <dt>Votes not yet final</dt><dd>{h.outbox ?? '—'}</dd>
      <dt>Pending (not sent)</dt><dd>{by.pending ?? 0}</dd>
      <dt>Submitted (waiting for a block)</dt><dd>{by.submitted ?? 0}</dd>
      {h.fallback_chain_height !== undefined && (<><dt>Fallback chain size</dt><dd>{h.fallback_chain_height}</dd></>)}
      <dt>Validators healthy</dt><dd>{h.validators_healthy} of {h.validators_total}</dd>
    </dl>
  );
}

function Ceremony({ e }) {
  const [out, setOut] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const k = e.key_ceremony ?? {};
  const tally = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api(`/api/admin/elections/${e.id}/tally`, { method: 'POST', body: { wait_seconds: 10 }, auth: true });
      setOut(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const results = out?.results?.results ?? out?.results;
  return (
    <li class="card">
      <h3>{e.id}: {e.name}</h3>
      <dl class="facts">
        <dt>Definition on the chain</dt><dd>{k.definition ?? '—'}{k.detail ? ` (${k.detail})` : ''}</dd>
        <dt>Key deadline</dt><dd>{fmtDate(k.deadline)}</dd>
        <dt>Threshold</dt><dd>{k.threshold ?? '—'} trustees</dd>
        <dt>Election key</dt><dd>{k.election_key ? <code class="hash">{k.election_key}</code> : 'not ready'}</dd>
        <dt>Voting</dt><dd>{phaseOf(e)} (ends {fmtDate(e.end_date)})</dd>
      </dl>
      <button type="button" onClick={tally} disabled={busy}>{busy ? 'Asking the validators…' : 'Tally now'}</button>
      <div aria-live="polite">
        {out && Array.isArray(results) && (
          <ul>{results.map((r) => <li key={r.candidate_id}>{r.candidate_name}: {r.vote_count ?? 'not yet decrypted'}</li>)}</ul>
        )}
        {out && !Array.isArray(results) && <p>Not decrypted yet; try again shortly.</p>}
      </div>
      <ErrorBox error={error} />
    </li>
  );
}

export function Admin({ user }) {
  const [elections, setElections] = useState(null);
  const [n, setN] = useState(0);
  usePoll(async (signal) => {
    setElections(await api('/api/elections', { signal }));
  }, 10000, [n]);
  if (!user) return <Page title="Administration"><p><a href="#/login?next=%23%2Fadmin">Log in</a> with an administrator account.</p></Page>;
  if (!user.is_admin) return <Page title="Administration"><p>This page is for administrators only.</p></Page>;
  const reload = () => setN(n + 1);
  const encrypted = (elections ?? []).filter((e) => e.ballot === 'encrypted');
  return (
    <Page title="Administration">
      <section aria-labelledby="a-create"><h2 id="a-create">Create an election</h2><CreateElection onCreated={reload} /></section>
      <section aria-labelledby="a-cand"><h2 id="a-cand">Add a candidate</h2>{elections ? <AddCandidate elections={elections} onAdded={reload} /> : <Loading />}</section>
      <section aria-labelledby="a-val"><h2 id="a-val">Validators</h2><Validators /></section>
      <section aria-labelledby="a-out"><h2 id="a-out">Outbox</h2><Outbox /></section>
      <section aria-labelledby="a-sec">
        <h2 id="a-sec">Secret-ballot elections</h2>
        {encrypted.length === 0 ? <p>None yet.</p> : <ul class="cards">{encrypted.map((e) => <Ceremony key={e.id} e={e} />)}</ul>}
      </section>
    </Page>
  );
}
