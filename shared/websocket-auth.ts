// How a browser WebSocket carries its bearer token: browsers cannot set `Authorization` on a
// WebSocket, so the token rides in `Sec-WebSocket-Protocol` as `waystation.bearer.<base64url>`
// next to the protocol `waystation`, which the server selects in its 101 answer.

/** The subprotocol the server selects; clients must offer it. */
export const WEBSOCKET_PROTOCOL = "waystation";
const BEARER_PREFIX = "waystation.bearer.";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Close codes the server uses on subscribe and doc sockets (RFC 6455 leaves 4000-4999 to
 * applications). A socket is authorised at its upgrade and stays bound to that token: it is
 * closed when the token's `exp` passes or its signing key is rotated, and frames after that
 * are not obeyed. On 4001 and 4003 a client asks for a fresh token and reconnects.
 */
export const SocketCloseCode = {
  /** The token's `exp` passed: reconnect with a fresh token. */
  TokenExpired: 4001,
  /** The token's key was rotated (TOKEN_SIGNING_KEY, or ADMIN_TOKEN for the admin): reconnect with a fresh token. */
  TokenRevoked: 4003,
  /** Policy violation (RFC 6455): the socket kept sending over its rate after being told to wait. */
  PolicyViolation: 1008,
} as const;
export type SocketCloseCode = (typeof SocketCloseCode)[keyof typeof SocketCloseCode];

/** True for the close codes after which a client must get a fresh token before reconnecting. */
export function closeNeedsFreshToken(code: number): boolean {
  return code === SocketCloseCode.TokenExpired || code === SocketCloseCode.TokenRevoked;
}

/** A socket whose frames were refused for their rate more than this many times in
 *  FRAME_STRIKE_WINDOW_MS is closed with 1008: it was told to wait and did not. */
export const MAX_FRAME_STRIKES = 50;
export const FRAME_STRIKE_WINDOW_MS = 10_000;

/** The subprotocols a client offers: `[waystation, waystation.bearer.<token>]`. */
export function webSocketProtocols(token: string): string[] {
  return [WEBSOCKET_PROTOCOL, BEARER_PREFIX + encodeToken(token)];
}

/** The bearer token in a `Sec-WebSocket-Protocol` header, or null. */
export function tokenFromProtocols(header: string | null | undefined): string | null {
  if (!header) return null;
  for (const part of header.split(",")) {
    const value = part.trim();
    if (value.startsWith(BEARER_PREFIX)) return decodeToken(value.slice(BEARER_PREFIX.length));
  }
  return null;
}

/** True when the header offers the `waystation` subprotocol (then the 101 answer must select it). */
export function offersWebSocketProtocol(header: string | null | undefined): boolean {
  return header?.split(",").some((part) => part.trim() === WEBSOCKET_PROTOCOL) ?? false;
}

/** Tokens are ASCII (they fit an HTTP header); a character above 0xff cannot be sent. */
function encodeToken(token: string): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (let i = 0; i < token.length; i++) {
    value = (value << 8) | (token.charCodeAt(i) & 0xff);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += B64URL[(value >> bits) & 63];
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += B64URL[(value << (6 - bits)) & 63];
  return out;
}

function decodeToken(text: string): string | null {
  let out = "";
  let bits = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = B64URL.indexOf(text[i]!);
    if (digit < 0) return null;
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((value >> bits) & 0xff);
      value &= (1 << bits) - 1;
    }
  }
  return out.length > 0 ? out : null;
}
