// The protocol version both sides speak. Optional fields may be added without a bump;
// removing or changing the meaning of one needs a bump and a line below.
//
// History:
//   1 — stations, produce with (producer, seq) exactly-once, replay, groups, DLS, webhooks.
export const PROTOCOL_VERSION = 1 as const;

/** Header a client may send to say which protocol it speaks; the server answers with its own. */
export const PROTOCOL_HEADER = "waystation-protocol";
