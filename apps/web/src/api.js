// The backend's REST API (docs/backend.md), same origin. Errors carry the backend's
// {"detail"} and the HTTP status.
import { session } from './store.js';

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

/// Where the API is: this page's own origin, or — for a page saved to a file and opened from the
/// disk — the server the visitor named on the verify page (kept in localStorage).
export const savedFile = typeof location !== 'undefined' && location.protocol === 'file:';
export function server() {
  return savedFile ? (localStorage.getItem('ballotchain.server') ?? '').replace(/\/+$/, '') : '';
}
export function setServer(url) {
  localStorage.setItem('ballotchain.server', url.trim());
}

export async function api(path, { method = 'GET', body, auth = false, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = session.token();
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(server() + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.');
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text.slice(0, 200) };
    }
  }
  if (!res.ok) {
    if (res.status === 401 && auth) session.clear();
    let detail = data && typeof data.detail === 'string' ? data.detail : `HTTP ${res.status}`;
    if (res.status === 429) {
      const after = res.headers.get('Retry-After');
      if (after) detail += ` (try again in ${after} s)`;
    }
    throw new ApiError(res.status, detail, data);
  }
  return data;
}

export const TX_RE = /0x[0-9a-fA-F]{64}/;

const CHANGES_PER_PAGE = 16; // GET /api/chain/validator-changes answers at most 16 at a time
const MAX_CHANGE_PAGES = 64;

/// GET /api/chain/validator-changes, every page: the validator-set changes from the first, up to
/// the first one recorded at or above block `height` (all of them without it). The caller checks
/// each itself (lib/chain.js learnChanges). Undefined from a backend that does not serve them (the
/// genesis set then): a 404, or, from a page opened as a file, no answer it may read (an older
/// backend sends no CORS header on it). A server that withholds changes gains nothing it could
/// not do with a quorum of the genesis keys: the seals must then be the genesis validators'.
export async function fetchChanges(height = Infinity, { signal } = {}) {
  const all = [];
  for (let page = 0; page < MAX_CHANGE_PAGES; page++) {
    let answer;
    try {
      answer = await api(`/api/chain/validator-changes?from_sequence=${all.length + 1}`, { signal });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      if (page === 0 && (e.status === 404 || (e.status === 0 && savedFile))) return undefined;
      throw e;
    }
    const got = Array.isArray(answer?.changes) ? answer.changes : [];
    all.push(...got);
    if (got.length < CHANGES_PER_PAGE || Number(got.at(-1).height) >= height) break;
  }
  return all;
}
