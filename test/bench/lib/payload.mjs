// The messages every system under test gets: ~200 B JSON bodies, numbered per producer.
// One place builds them so Waystation, the ceiling and JetStream carry the same bytes.

const PAD = "x".repeat(176);

/** One message body; its JSON is ~200 bytes. `sentAtMs` is added for latency runs. */
export function makeBody(seq, sentAtMs) {
  return sentAtMs === undefined ? { seq, pad: PAD } : { seq, sentAtMs, pad: PAD };
}

export function bodyBytes() {
  return JSON.stringify(makeBody(1_000_000)).length;
}

/** A produce request of `count` messages with seqs firstSeq.. (Waystation and the ceiling). */
export function produceRequestJson(producer, firstSeq, count) {
  const messages = [];
  for (let i = 0; i < count; i++) messages.push({ seq: firstSeq + i, body: makeBody(firstSeq + i) });
  return JSON.stringify({ producer, messages });
}

/** The same batch without producer and seq (`sentAtMs` in each body for latency runs). */
export function unsequencedRequestJson(firstSeq, count, sentAtMs) {
  const messages = [];
  for (let i = 0; i < count; i++) messages.push({ body: makeBody(firstSeq + i, sentAtMs) });
  return JSON.stringify({ messages });
}
