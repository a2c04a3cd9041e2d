// Bounds every request before anything reads it: URL length (414), header count and total
// header bytes (431). Bodies are bounded where they are read (worker/http/read-json.ts).
import type { MiddlewareHandler } from "hono";
import { ErrorCode } from "../../shared/errors";
import { MAX_REQUEST_HEADERS, MAX_REQUEST_HEADERS_BYTES, MAX_URL_LENGTH } from "../../shared/limits";
import type { AppBindings } from "../env";
import { ApiError } from "../http/api-error";

export const boundRequest: MiddlewareHandler<AppBindings> = async (c, next) => {
  if (c.req.url.length > MAX_URL_LENGTH) {
    throw new ApiError(ErrorCode.UriTooLong, `The URL is longer than ${MAX_URL_LENGTH} characters`, { maxLength: MAX_URL_LENGTH });
  }
  let count = 0;
  let bytes = 0;
  for (const [name, value] of c.req.raw.headers) {
    count += 1;
    bytes += name.length + value.length + 4; // ": " and CRLF, as on the wire
  }
  if (count > MAX_REQUEST_HEADERS || bytes > MAX_REQUEST_HEADERS_BYTES) {
    throw new ApiError(
      ErrorCode.HeadersTooLarge,
      `Send at most ${MAX_REQUEST_HEADERS} headers and ${MAX_REQUEST_HEADERS_BYTES} bytes of them`,
      { headers: count, headersBytes: bytes, maxHeaders: MAX_REQUEST_HEADERS, maxHeadersBytes: MAX_REQUEST_HEADERS_BYTES },
    );
  }
  return next();
};
