// Results: per candidate with bars, total, block height and verification; refreshed every 5 s
// while the election is open. Secret-ballot elections: sealed until the end.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Page, ErrorBox, Loading, fmtDate, phaseOf, usePoll } from '../ui.jsx';

export function Results({ id }) {
  const [election, setElection] = useState(null);
  const [res, setRes] = useState(null);
  const [error, setError] = useState(null);
  const open = election ? phaseOf(election) === 'open' : true;
  usePoll(async (signal) => {
    try {
      const [e, r] = await Promise.all([
        election ? Promise.resolve(election) : api(`/api/elections/${encodeURIComponent(id)}`, { signal }),
        api(`/api/votes/results?election_id=${encodeURIComponent(id)}`, { signal }),
      ]);
      setElection(e);
      setRes(r);
      setError(null);
    } catch (err) {
      if (err.name !== 'AbortError') setError(err);
    }
  }, open ? 5000 : 0, [id, open], true);

  const title = election ? `Results: ${election.name}` : 'Results';
  if (!res) return <Page title={title}>{error ? <ErrorBox error={error} /> : <Loading />}</Page>;
  const sealedCounts = res.results.some((r) => r.vote_count === null || r.vote_count === undefined);
  const max = Math.max(1, ...res.results.map((r) => r.vote_count ?? 0));
  const v = res.verification ?? {};
  return (
    <Page title={title}>
      {election && (
        <p class="meta">
          {phaseOf(election) === 'open' ? `Open until ${fmtDate(election.end_date)} — updates every 5 seconds.` : `Closed ${fmtDate(election.end_date)}.`}
        </p>
      )}
      <ErrorBox error={error} />
      <div aria-live="polite">
        <p class="total"><strong>{res.total_votes}</strong> vote{res.total_votes === 1 ? '' : 's'} counted</p>
        {sealedCounts && (
          <p class="notice">
            The choices are sealed until the election ends: only the total is known now. After the end the
            validators open the totals per candidate{res.phase ? ` (now: ${res.phase.replace(/_/g, ' ')})` : ''}.
          </p>
        )}
      </div>
      <table class="results">
        <caption class="sr-only">Votes per candidate</caption>
        <thead>
          <tr><th scope="col">Candidate</th><th scope="col">Votes</th><th scope="col"><span class="sr-only">Chart</span></th></tr>
        </thead>
        <tbody>
          {res.results.map((r) => (
            <tr key={r.candidate_id}>
              <th scope="row">{r.candidate_name}</th>
              <td class="num">
                {r.vote_count ?? '—'}
                {r.vote_count !== null && r.vote_count !== undefined && <span class="muted"> ({Number(r.percentage ?? 0).toFixed(1)}%)</span>}
              </td>
              <td class="bar-cell" aria-hidden="true">
                <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" focusable="false">
                  <rect x="0" y="0" width="100" height="10" class="bar-bg" />
                  <rect x="0" y="0" width={((r.vote_count ?? 0) / max) * 100} height="10" class="bar-fg" />
                </svg>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <dl class="facts">
        <dt>Counted up to block</dt>
        <dd>{res.block_height ?? '—'}</dd>
        <dt>Tally checked</dt>
        <dd>{res.tally_verified ? 'Yes: recounted from final blocks whose signatures were checked' : 'Not yet'}</dd>
        <dt>Chain checked</dt>
        <dd>{v.chain_valid === true ? 'Valid' : v.chain_valid === false ? 'INVALID' : '—'}{v.timestamp ? ` (${fmtDate(v.timestamp)})` : ''}</dd>
        {v.validators_needed !== undefined && (
          <>
            <dt>Validators agreeing</dt>
            <dd>{v.validators_agreeing ?? 0} (needed: {v.validators_needed})</dd>
          </>
        )}
        {res.decrypted_by && (
          <>
            <dt>Opened by trustees</dt>
            <dd>{res.decrypted_by.join(', ')}</dd>
          </>
        )}
      </dl>
    </Page>
  );
}
