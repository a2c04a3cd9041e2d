// Reads a JSON request body safely: content type checked, size bounded before parsing
// (a hostile Content-Length or chunked stream cannot make us buffer more than `maxBytes`),
// then validated against a contract schema.
import type { Context } from "hono";
import type * as v from "valibot";
import { ErrorCode } from "../../shared/errors";
import { validate } from "../../shared/validate";
import { ApiError } from "./api-error";
import { assertJsonDepth } from "./json-depth";

export interface ReadJsonOptions {
  maxBytes: number;
  /** An empty body stands for `{}` (e.g. `PUT` a station with all defaults). */
  allowEmpty?: boolean;
  /** Runs on the parsed JSON before the schema: for refusals that need their own status (413). */
  precheck?: (parsed: unknown) => void;
  /** The caller bounds the nesting itself, before any recursive walk (produce: per message). */
  ownDepthCheck?: boolean;
}

export async function readJson<S extends v.GenericSchema>(c: Context, schema: S, options: ReadJsonOptions): Promise<v.InferOutput<S>> {
  const text = await readBodyText(c.req.raw, options.maxBytes);
  if (text.trim() === "") {
    if (!options.allowEmpty) throw new ApiError(ErrorCode.InvalidJson, "The request needs a JSON body");
    return unwrapValidation(schema, {});
  }
  assertJsonContentType(c.req.header("content-type"));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError(ErrorCode.InvalidJson, "The request body is not valid JSON");
  }
  if (!options.ownDepthCheck) assertJsonDepth(parsed);
  options.precheck?.(parsed);
  return unwrapValidation(schema, parsed);
}

export function unwrapValidation<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = validate(schema, input);
  if (!result.ok) throw ApiError.from(result.error);
  return result.value;
}

function assertJsonContentType(contentType: string | undefined): void {
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new ApiError(ErrorCode.UnsupportedMediaType, "Send the body as application/json", {
      received: contentType ?? null,
    });
  }
}

async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return "";
  // With a Content-Length the runtime holds the body to exactly that size: read it whole,
  // which is much cheaper than a JS loop over chunks. Chunked bodies are counted as they come.
  if (Number.isFinite(declared)) {
    const whole = new Uint8Array(await request.arrayBuffer());
    if (whole.byteLength > maxBytes) throw tooLarge(maxBytes);
    return decodeUtf8(whole);
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return decodeUtf8(bytes);
}

/** One decoder for every request: decode() without `stream` keeps no state between calls. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ApiError(ErrorCode.InvalidJson, "The request body is not valid UTF-8");
  }
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(ErrorCode.PayloadTooLarge, `The request body is larger than ${maxBytes} bytes`, { maxBytes });
}
