// UTF-8 byte length of a string without TextEncoder, so `shared/` needs no platform library.
// Sizes decide limits (413s), so both sides must count them the same way.

export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3; // lone high surrogate: encoded as U+FFFD
    } else bytes += 3;
  }
  return bytes;
}
