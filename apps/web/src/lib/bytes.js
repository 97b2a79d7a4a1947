// Byte helpers shared by the ballot sealer and the receipt verifier.
// Integers inside encodings and hash inputs are big-endian (data-format.md §1).

export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function u8(n) {
  return Uint8Array.of(n & 0xff);
}

export function u32(n) {
  if (BigInt(n) < 0n || BigInt(n) > 0xffffffffn) throw new RangeError('u32 out of range');
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, Number(n), false);
  return b;
}

export function u64(n) {
  const v = BigInt(n);
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError('u64 out of range');
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, false);
  return b;
}

export const utf8 = (s) => new TextEncoder().encode(s);

/// `u32 len(domain) ‖ domain` (election-protocol.md: every challenge starts with it).
export function dom(name) {
  const d = utf8(name);
  return concat(u32(d.length), d);
}

export function toHex(b, prefix = true) {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return prefix ? '0x' + s : s;
}

/// Strict hex: optional 0x, even length, hex digits only; `len` (bytes) checked when given.
export function fromHex(s, len) {
  if (typeof s !== 'string') throw new TypeError('hex: not a string');
  let h = s.trim();
  if (h.startsWith('0x') || h.startsWith('0X')) h = h.slice(2);
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new SyntaxError('hex: not an even number of hex digits');
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  if (len !== undefined && out.length !== len) throw new RangeError(`hex: ${out.length} bytes, expected ${len}`);
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/// Little-endian bytes -> BigInt (scalars, hash-to-scalar).
export function leToBig(b) {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

export function bigToLe(v, len = 32) {
  const out = new Uint8Array(len);
  let x = v;
  for (let i = 0; i < len; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  if (x !== 0n) throw new RangeError('scalar does not fit');
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/// Padded standard base64 (what the backend's `encrypted_vote` takes).
export function toBase64(b) {
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    s += i + 1 < b.length ? B64[(n >> 6) & 63] : '=';
    s += i + 2 < b.length ? B64[n & 63] : '=';
  }
  return s;
}

export function fromBase64(s) {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new SyntaxError('base64: not padded base64');
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) n = (n << 6) | (s[i + j] === '=' ? 0 : B64.indexOf(s[i + j]));
    for (const sh of [16, 8, 0]) if (o < out.length) out[o++] = (n >> sh) & 0xff;
  }
  return out;
}

/// A strict reader over bytes: every read checks the bytes left (truncated), `done` refuses
/// trailing bytes (data-format.md §1 "Strict decoding").
export class Reader {
  constructor(b) {
    this.b = b;
    this.pos = 0;
  }
  take(n) {
    if (n > this.b.length - this.pos) throw new RangeError(`truncated at byte ${this.pos}`);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8() {
    return this.take(1)[0];
  }
  u32() {
    const t = this.take(4);
    return new DataView(t.buffer, t.byteOffset, 4).getUint32(0, false);
  }
  u64() {
    const t = this.take(8);
    return new DataView(t.buffer, t.byteOffset, 8).getBigUint64(0, false);
  }
  left() {
    return this.b.length - this.pos;
  }
  done() {
    if (this.pos !== this.b.length) throw new RangeError(`${this.b.length - this.pos} trailing bytes`);
  }
}
