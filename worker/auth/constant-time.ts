// Compares secrets without leaking their content through timing.

const encoder = new TextEncoder();

export function secretsEqual(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  // timingSafeEqual needs equal lengths; comparing b with itself keeps the time the same.
  if (a.byteLength !== b.byteLength) {
    crypto.subtle.timingSafeEqual(b, b);
    return false;
  }
  return crypto.subtle.timingSafeEqual(a, b);
}
