// The session token (sessionStorage: gone when the tab closes) and the voter's own tracking
// codes (localStorage, this device only: nothing about the choice is stored).
const listeners = new Set();

function read(storage, key, fallback) {
  try {
    const v = storage.getItem(key);
    return v ? JSON.parse(v) : fallback;
  } catch {
    return fallback;
  }
}
function write(storage, key, v) {
  try {
    if (v === null) storage.removeItem(key);
    else storage.setItem(key, JSON.stringify(v));
  } catch {
    /* storage full or disabled: the page still works */
  }
}

export const session = {
  get() {
    return read(sessionStorage, 'ballotchain.session', null);
  },
  token() {
    return this.get()?.token ?? null;
  },
  user() {
    return this.get()?.user ?? null;
  },
  set(token, user) {
    write(sessionStorage, 'ballotchain.session', { token, user });
    listeners.forEach((f) => f());
  },
  clear() {
    write(sessionStorage, 'ballotchain.session', null);
    listeners.forEach((f) => f());
  },
  subscribe(f) {
    listeners.add(f);
    return () => listeners.delete(f);
  },
};

/// {tx, electionId, electionName, at, warning?} newest first.
export const myVotes = {
  list() {
    return read(localStorage, 'ballotchain.votes', []);
  },
  add(v) {
    const all = this.list().filter((x) => x.tx !== v.tx);
    all.unshift({ ...v, at: v.at ?? new Date().toISOString() });
    write(localStorage, 'ballotchain.votes', all.slice(0, 200));
  },
  find(tx) {
    return this.list().find((x) => x.tx.toLowerCase() === String(tx).toLowerCase());
  },
};
