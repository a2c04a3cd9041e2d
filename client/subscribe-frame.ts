// Reads one frame the station sends on a group's subscribe socket: JSON, then the contract
// (ServerFrameSchema). A frame that is neither is a `bad_response`, never a cast: the receiver
// reports it and goes on as if it had not come. Shared by the browser's and the server's consumer.
import * as v from "valibot";
import { type ServerFrame, ServerFrameSchema } from "../shared/groups";
import { WaystationError } from "./errors";

export type FrameReading =
  | { ok: true; frame: ServerFrame }
  /** `ref`: the one the broken frame named, if any — the answer it was meant to be is lost. */
  | { ok: false; error: WaystationError; ref?: string };

export function readServerFrame(data: unknown): FrameReading {
  let json: unknown;
  try {
    json = JSON.parse(String(data));
  } catch {
    return { ok: false, error: new WaystationError("bad_response", "A WebSocket frame that is not JSON") };
  }
  const parsed = v.safeParse(ServerFrameSchema, json);
  if (parsed.success) return { ok: true, frame: parsed.output };
  const ref = (json as { ref?: unknown } | null)?.ref;
  const error = new WaystationError("bad_response", "A WebSocket frame that does not fit the contract");
  return typeof ref === "string" ? { ok: false, error, ref } : { ok: false, error };
}
