// Verify: the browser itself checks that a vote is in a final block, from the genesis
// validators' keys and the validator-set changes each certified by the set before it, step by
// step (src/lib/chain.js verifyReceipt).
import { useEffect, useState } from 'preact/hooks';
import { api, fetchChanges, savedFile, server, setServer } from '../api.js';
import { verifyReceipt } from '../lib/chain.js';
import { toHex } from '../lib/bytes.js';
import { Page, ErrorBox, Hash } from '../ui.jsx';

const TX_OK = /^0x[0-9a-fA-F]{64}$/;
export function Verify({ tx: initial }) {
  const [tx, setTx] = useState(initial);
  const [state, setState] = useState(null);
  const [inputError, setInputError] = useState(null);
  const [srv, setSrv] = useState(server());

  const run = async (code) => {
    const c = code.trim();
    if (!TX_OK.test(c)) {
      setInputError('A tracking code is 0x followed by 64 hexadecimal characters.');
      return;
    }
    setInputError(null);
    setState({ phase: 'running' });
    let genesis;
    try {
      genesis = await api('/api/chain/genesis');
    } catch (e) {
      setState({ phase: 'error', error: `Cannot fetch the genesis: ${e.detail ?? e.message}` });
      return;
    }
    let proof;
    try {
      proof = await api(`/api/votes/proof?transaction_id=${encodeURIComponent(c)}`);
    } catch (e) {
      if (e.status === 404) {
        setState({ phase: 'not-final', genesis, detail: e.detail });
        return;
      }
      setState({ phase: 'error', genesis, error: `Cannot fetch the proof: ${e.detail ?? e.message}` });
      return;
    }
    let changes;
    try {
      changes = await fetchChanges(Number(proof.block_number));
    } catch (e) {
      setState({ phase: 'error', genesis, error: `Cannot fetch the validator-set changes: ${e.detail ?? e.message}` });
      return;
    }
    // the checks themselves run here, in this page, on the bytes just fetched
    const result = verifyReceipt({ txHash: c, genesis, proof, changes });
    setState({ phase: 'done', genesis, proof, result });
  };

  useEffect(() => {
    if (initial && TX_OK.test(initial.trim())) run(initial);
  }, [initial]);

  return (
    <Page title="Check a vote">
      <p>
        Paste a tracking code. Your browser then checks, by itself, that the vote is in a block the validators
        signed as final. Nothing is taken on the server's word: the server only passes on the data, and every
        check below runs on this device with the validators' public keys.
      </p>
      <form onSubmit={(e) => { e.preventDefault(); history.replaceState(null, '', `#/verify?tx=${tx.trim()}`); run(tx); }}>
        {savedFile && (
          <div class="field">
            <label for="server">Server to fetch the data from</label>
            <input id="server" type="url" autoComplete="url" placeholder="http://127.0.0.1:8000" value={srv}
              onInput={(e) => { setSrv(e.currentTarget.value); setServer(e.currentTarget.value); }} />
            <p class="hint">This page was opened from a file: it runs the checks itself and only fetches the
              public data from the server you name.</p>
          </div>
        )}
        <div class="field">
          <label for="tx">Tracking code</label>
          <input id="tx" type="text" spellcheck={false} autoComplete="off" value={tx} placeholder="0x…"
            aria-invalid={inputError ? 'true' : undefined} aria-describedby={inputError ? 'tx-error' : undefined}
            onInput={(e) => setTx(e.currentTarget.value)} />
          {inputError && <p class="field-error" id="tx-error" role="alert">{inputError}</p>}
        </div>
        <button type="submit" class="primary" disabled={state?.phase === 'running'}>Check</button>
      </form>
      <div aria-live="polite">
        {state?.phase === 'running' && <p class="muted" role="status">Checking…</p>}
        {state?.phase === 'error' && <ErrorBox error={state.error} />}
        {state?.phase === 'not-final' && (
          <p class="notice" role="status">
            This vote is not in a final block yet (or the code is unknown). If you just voted, wait a few seconds and
            check again. <span class="muted">{state.detail}</span>
          </p>
        )}
        {state?.phase === 'done' && (
          <div>
            <p class={state.result.ok ? 'verdict ok' : 'verdict bad'} role="status">
              {state.result.ok
                ? `Verified: this vote is in block ${state.result.block.height}, signed final by a quorum of the validators.`
                : 'Not verified: at least one check failed. Do not trust this receipt.'}
            </p>
            <ol class="checks">
              {state.result.steps.map((s) => (
                <li key={s.id} class={s.ok ? 'pass' : 'fail'}>
                  <span class="mark" aria-hidden="true">{s.ok ? '✓' : '✗'}</span>
                  <span class="sr-only">{s.ok ? 'Passed: ' : 'Failed: '}</span>
                  {s.label}
                  {s.detail && <div class="detail"><code>{s.detail}</code></div>}
                </li>
              ))}
            </ol>
          </div>
        )}
      </div>
      {state?.genesis && (
        <section aria-labelledby="gen-h">
          <h2 id="gen-h">Which chain?</h2>
          <p>
            Compare this genesis hash with the one the election organisers publish. The validators' keys that sign
            blocks come from this genesis.
          </p>
          <p><Hash value={state.genesis.genesis_hash} /></p>
          <details>
            <summary>The validators</summary>
            <ul>
              {(state.genesis.genesis?.validators ?? []).map((v) => (
                <li key={v.public_key}>{v.name}: <Hash value={v.public_key} /></li>
              ))}
            </ul>
          </details>
          {state.result?.ok && state.result.changes > 0 && (
            <details>
              <summary>The validators of block {String(state.result.block.height)}</summary>
              <p>The validators changed since the genesis; each change was approved by a quorum of the validators
                before it and is in a block they signed final.</p>
              <ul>
                {state.result.validators.map((v) => (
                  <li key={toHex(v.key)}>{v.name}: <Hash value={toHex(v.key)} /></li>
                ))}
              </ul>
            </details>
          )}
        </section>
      )}
      <details>
        <summary>What is checked</summary>
        <ol>
          <li>The genesis (the chain's founding record) hashes to the hash shown, and gives the validators' keys.</li>
          <li>The proof is about the tracking code you gave.</li>
          <li>The block header decodes, and its SHA-256 hash is the block's hash.</li>
          <li>The header's transaction root is the one the proof uses.</li>
          <li>The Merkle path (RFC 6962) leads from your tracking code to that root: your vote is in the block.</li>
          <li>If the validators changed since the genesis: each change is in a block a quorum of the validators
            before it signed final, and was approved by a quorum of them; so the validators of this block are known
            from the genesis alone.</li>
          <li>At least a quorum of distinct validators of this block signed it final (Ed25519 signatures over its height, round and hash).</li>
        </ol>
        <p>This shows that your vote is counted on the chain, not what you voted.</p>
      </details>
    </Page>
  );
}
