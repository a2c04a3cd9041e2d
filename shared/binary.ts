// How binary data travels in JSON: a body (or any field) `{"$binary": "<base64>"}`, with a
// base64 codec written here so Workers, browsers and Node encode it the same way (no Buffer,
// no atob/btoa with their Latin-1 strings). Used for yjs updates everywhere they travel.

/** A binary value on the wire: standard base64 with padding in the one key `$binary`. */
export interface BinaryBody {
  $binary: string;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Maps a char code to its 6-bit value; `-` and `_` (base64url) decode too, 255 marks invalid. */
const DECODE = (() => {
  const table = new Uint8Array(128).fill(255);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  table["-".charCodeAt(0)] = 62;
  table["_".charCodeAt(0)] = 63;
  return table;
})();

/** Encodes bytes as standard base64 with `=` padding. */
export function encodeBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
    // Joining bounded pieces keeps long inputs from building one huge rope string.
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = "";
    }
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    chunk += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    chunk += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + "=";
  }
  parts.push(chunk);
  return parts.join("");
}

/**
 * Decodes base64 (standard or base64url, padding optional), or returns null when the text is
 * not base64. A space stands for `+`, as a query string decoder may have turned it into one.
 */
export function decodeBase64(text: string): Uint8Array | null {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */) end--;
  if (text.length - end > 2) return null;
  if (end % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (let i = 0; i < end; i++) {
    let code = text.charCodeAt(i);
    if (code === 32) code = 43; // ' ' → '+'
    const digit = code < 128 ? DECODE[code]! : 255;
    if (digit === 255) return null;
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

export function isBinaryBody(value: unknown): value is BinaryBody {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === "$binary" && typeof (value as BinaryBody).$binary === "string";
}

/** Wraps bytes for a JSON body or field. */
export function encodeBinaryBody(bytes: Uint8Array): BinaryBody {
  return { $binary: encodeBase64(bytes) };
}

/** The bytes of a `{"$binary": …}` value, or null when the value is not one. */
export function decodeBinaryBody(value: unknown): Uint8Array | null {
  return isBinaryBody(value) ? decodeBase64(value.$binary) : null;
}
