// `GET|POST /v1/stations/{station}/doc`: a doc station's state in one round trip, as JSON with
// binary fields, or (Accept: application/octet-stream) as the raw update with the rest in headers;
// `GET …/doc/subscribe`: the live WebSocket (pushed updates, awareness; shared/doc-socket.ts).
import { type Context, Hono } from "hono";
import * as Y from "yjs";
import { Action } from "../../shared/auth";
import { decodeBase64, decodeBinaryBody, encodeBase64, encodeBinaryBody } from "../../shared/binary";
import { DocQuerySchema, DocRequestSchema, type DocState, MAX_DOC_STATE_VECTOR_BYTES } from "../../shared/docs";
import { ErrorCode } from "../../shared/errors";
import { socketCredentialOf, withSocketCredential } from "../auth/socket-credential";
import type { AppBindings } from "../env";
import { ApiError, unwrap } from "../http/api-error";
import { readJson, unwrapValidation } from "../http/read-json";
import { stationAccess } from "../middleware/station-access";
import { stationStub } from "../stubs";

/** Headers of the binary answer (the JSON answer holds the same fields). */
export const DOC_OFFSET_HEADER = "waystation-doc-offset";
export const DOC_SNAPSHOT_OFFSET_HEADER = "waystation-doc-snapshot-offset";
export const DOC_STATE_VECTOR_HEADER = "waystation-doc-state-vector";

export const docs = new Hono<AppBindings>()
  .get("/", stationAccess(Action.Consume), async (c) => {
    const query = unwrapValidation(DocQuerySchema, c.req.query());
    const stateVector = query.stateVector === undefined ? null : checkStateVector(decodeBase64(query.stateVector)!);
    return answer(c, stateVector);
  })
  .post("/", stationAccess(Action.Consume), async (c) => {
    const request = await readJson(c, DocRequestSchema, { maxBytes: MAX_DOC_STATE_VECTOR_BYTES * 2, allowEmpty: true });
    const stateVector = request.stateVector === undefined ? null : checkStateVector(decodeBinaryBody(request.stateVector)!);
    return answer(c, stateVector);
  })
  .get("/subscribe", stationAccess(Action.Consume), async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError(ErrorCode.InvalidRequest, "Doc subscribe is a WebSocket: send Upgrade: websocket");
    }
    // The object accepts the socket (hibernatable) and answers 101, or a JSON error. It keeps
    // the caller's credential with the socket: the socket lives no longer than its token. A copy:
    // the object's answer has immutable headers, and the app's middleware adds its own.
    const forwarded = withSocketCredential(c.req.raw, c.req.url, await socketCredentialOf(c.get("principal"), c.env));
    const answer = await stationStub(c.env, c.var.station).fetch(forwarded);
    if (answer.webSocket) return new Response(null, { status: 101, webSocket: answer.webSocket, headers: answer.headers });
    return new Response(answer.body, answer);
  });

async function answer(c: Context<AppBindings>, stateVector: Uint8Array | null): Promise<Response> {
  const state = unwrap(await stationStub(c.env, c.var.station).readDoc(stateVector));
  if (wantsBinary(c.req.header("accept"))) {
    return new Response(state.update, {
      headers: {
        "content-type": "application/octet-stream",
        [DOC_OFFSET_HEADER]: String(state.offset),
        [DOC_SNAPSHOT_OFFSET_HEADER]: String(state.snapshotOffset),
        [DOC_STATE_VECTOR_HEADER]: encodeBase64(state.stateVector),
      },
    });
  }
  const body: DocState = {
    update: encodeBinaryBody(state.update),
    stateVector: encodeBinaryBody(state.stateVector),
    offset: state.offset,
    snapshotOffset: state.snapshotOffset,
    tailUpdates: state.tailUpdates,
  };
  return c.json(body);
}

/** A state vector that does not decode would make `Y.diffUpdate` throw in the station. */
function checkStateVector(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength > MAX_DOC_STATE_VECTOR_BYTES) {
    throw new ApiError(ErrorCode.PayloadTooLarge, `A state vector holds at most ${MAX_DOC_STATE_VECTOR_BYTES} bytes`, {
      maxBytes: MAX_DOC_STATE_VECTOR_BYTES,
    });
  }
  try {
    Y.decodeStateVector(bytes);
  } catch {
    throw new ApiError(ErrorCode.InvalidRequest, "stateVector is not a yjs state vector", {
      issues: [{ path: "stateVector", message: "Not a yjs state vector" }],
    });
  }
  return bytes;
}

function wantsBinary(accept: string | undefined): boolean {
  return accept?.split(",").some((part) => part.split(";")[0]!.trim().toLowerCase() === "application/octet-stream") ?? false;
}
