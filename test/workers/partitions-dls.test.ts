// The DLS of a partitioned station (docs/partitions.md, "Dead letters"): each partition files
// its own dead letters, each with its partition; a read names one partition or merges them all
// (oldest first, paged by `cursor`); resend by ids names a partition, resend all reaches every one.
import { describe, expect, it } from "vitest";
import { api, produce } from "./helpers";
import { keyIn, readPartition } from "./partitions-helpers";
import { addVersion, stationWithSchema, TODO_V1, uniqueSchema } from "./schemas-helpers";

const PARTITIONS = 4;

async function partitionedDlsStation(): Promise<{ schema: string; station: string }> {
  const schema = uniqueSchema();
  await addVersion(schema, TODO_V1);
  const station = await stationWithSchema(schema, "latest", { partitions: PARTITIONS, dls: { onSchemaFailure: true } });
  return { schema, station };
}

/** One schema-failing message per key, in the order given (each into its key's partition). */
async function failInto(station: string, keys: string[]): Promise<void> {
  for (const key of keys) {
    const res = await produce(station, { messages: [{ key, body: { todo: 1, key } }] });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({ offset: null, deadLettered: true });
  }
}

describe("dead letters of a partitioned station", () => {
  it("files a schema-failing message in its partition's DLS, with its partition", async () => {
    const { station } = await partitionedDlsStation();
    const [k1, k3] = [keyIn(1, PARTITIONS), keyIn(3, PARTITIONS)];
    const res = await produce(station, { producer: "p", messages: [{ seq: 1, key: k1, body: { todo: "ok" } }, { seq: 1, key: k3, body: { todo: 3 } }] });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { seq: 1, partition: 1, offset: 1, duplicate: false },
      { seq: 1, partition: 3, offset: null, duplicate: false, deadLettered: true },
    ]);
    const three = await api("GET", `/v1/stations/${station}/dls?partition=3`);
    expect(three.status).toBe(200);
    expect(three.body.deadLetters).toHaveLength(1);
    expect(three.body.deadLetters[0]).toMatchObject({ id: 1, partition: 3, reason: "schema_violation", message: { partition: 3, key: k3, seq: 1 } });
    expect((await api("GET", `/v1/stations/${station}/dls?partition=1`)).body.deadLetters).toEqual([]);
    const all = await api("GET", `/v1/stations/${station}/dls`);
    expect(all.body.deadLetters.map((letter: any) => [letter.partition, letter.id])).toEqual([[3, 1]]);
    expect(all.body.cursor).toBeNull();
    expect((await api("GET", `/v1/stations/${station}/dls?partition=4`)).status).toBe(422);
    expect((await api("GET", `/v1/stations/${station}`)).body.stats.deadLetters).toBe(1);
  });

  it("merges every partition's letters oldest first and pages on with the cursor", async () => {
    const { station } = await partitionedDlsStation();
    const keys = [0, 2, 1, 2, 3, 0, 1].map((partition, i) => keyIn(partition, PARTITIONS, `m${i}`));
    await failInto(station, keys);
    const seen: any[] = [];
    let cursor: string | null | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await api("GET", `/v1/stations/${station}/dls?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.body.deadLetters.length).toBeLessThanOrEqual(3);
      expect(res.body.next).toBeNull();
      seen.push(...res.body.deadLetters);
      cursor = res.body.cursor;
      if (cursor === null) break;
    }
    expect(cursor).toBeNull();
    expect(seen.map((letter) => letter.message.body.key)).toEqual(keys);
    for (let i = 1; i < seen.length; i++) expect(seen[i].deadAt).toBeGreaterThanOrEqual(seen[i - 1].deadAt);
    expect((await api("GET", `/v1/stations/${station}/dls?cursor=not-a-cursor`)).status).toBe(422);
  });

  it("resends by ids on the partition named, and all of them on every partition", async () => {
    const { station } = await partitionedDlsStation();
    const [k0, k2] = [keyIn(0, PARTITIONS, "r"), keyIn(2, PARTITIONS, "r")];
    // Partition 0 holds dead letter 1, partition 2 holds 1 and 2. Schema failures never got an
    // offset, so each partition that holds the id answers it not_resendable; one that lacks it, missing.
    await failInto(station, [k0, k2, k2]);
    const onTwo = await api("POST", `/v1/stations/${station}/dls/resend`, { ids: [2], partition: 2 });
    expect(onTwo.status).toBe(200);
    expect(onTwo.body).toMatchObject({ resent: 0, missing: [], refused: [{ id: 2, code: "not_resendable" }] });
    const onZero = await api("POST", `/v1/stations/${station}/dls/resend`, { ids: [2] });
    expect(onZero.body).toMatchObject({ resent: 0, missing: [2], refused: [] });
    expect((await api("POST", `/v1/stations/${station}/dls/resend`, { ids: [1], partition: 9 })).status).toBe(422);
    const all = await api("POST", `/v1/stations/${station}/dls/resend`, { all: true });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ resent: 0, missing: [], more: false });
    expect(all.body.refused.map((refusal: any) => refusal.id).sort()).toEqual([1, 1, 2]);
  });

  it("drops a dead letter of the partition named", async () => {
    const { station } = await partitionedDlsStation();
    const k1 = keyIn(1, PARTITIONS, "d");
    await failInto(station, [k1]);
    expect((await api("DELETE", `/v1/stations/${station}/dls/1`)).status).toBe(404);
    const dropped = await api("DELETE", `/v1/stations/${station}/dls/1?partition=1`);
    expect(dropped.status).toBe(200);
    expect(dropped.body).toEqual({ dropped: 1, id: 1 });
    expect((await api("GET", `/v1/stations/${station}/dls?partition=1`)).body.deadLetters).toEqual([]);
  });
});
