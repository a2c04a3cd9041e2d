// The dead-letter station: maxDeliveries sends a message there with its reason and count;
// browse, filter, page, resend (durable, even with nobody connected and across a restart),
// drop; and the generic module API other parts of the station file dead letters with.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addDeadLetter } from "../../worker/station/dead-letters";
import { api } from "./helpers";
import { deadLetters, fireAlarm, groupInfo, nack, offsetsOf, pass, stationInfo, stationStub, stationWith, take, createGroups } from "./groups-helpers";

/** Hands message(s) out `times` times without an ack, so they run out of deliveries. */
async function exhaust(station: string, group: string, times: number, max = 10): Promise<void> {
  for (let i = 0; i < times; i++) {
    const got = await take(station, group, `c${i}`, max);
    expect(got.length).toBeGreaterThan(0);
    await nack(station, group, offsetsOf(got));
  }
}

describe("maxDeliveries", () => {
  it("moves a message to the DLS after maxDeliveries hand-outs, with reason, count and message", async () => {
    const station = await stationWith(2, { maxDeliveries: 3 });
    await createGroups(station, ["g"]);
    await exhaust(station, "g", 3, 1);
    const letters = await deadLetters(station);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      id: expect.any(Number),
      offset: 1,
      group: "g",
      reason: "max_deliveries",
      deliveries: 3,
      message: { offset: 1, body: { n: 1 }, deliveries: 3 },
    });
    // The group moved on: offset 2 comes next, and 1 counts as done for the ack floor.
    expect(offsetsOf(await take(station, "g", "c", 10))).toEqual([2]);
    expect(await groupInfo(station, "g")).toMatchObject({ ackFloor: 1, deadLetters: 1 });
    const info = await stationInfo(station);
    expect(info.stats.deadLetters).toBe(1);
    expect(info.groups[0]).toMatchObject({ name: "g", deadLetters: 1 });
  });

  it("counts a lease that ran out as a failed delivery", async () => {
    const station = await stationWith(1, { maxDeliveries: 2, ackTimeoutMs: 100 });
    await createGroups(station, ["g"]);
    for (let i = 0; i < 2; i++) {
      expect(await take(station, "g", "c")).toHaveLength(1);
      await pass(150);
      await fireAlarm(station);
    }
    expect(await take(station, "g", "c")).toEqual([]);
    expect((await deadLetters(station))[0]).toMatchObject({ offset: 1, reason: "max_deliveries", deliveries: 2 });
  });

  it("drops and counts instead when dls.onMaxDeliveries is off", async () => {
    const station = await stationWith(1, { maxDeliveries: 1, dls: { onMaxDeliveries: false } });
    await createGroups(station, ["g"]);
    await exhaust(station, "g", 1);
    expect(await deadLetters(station)).toEqual([]);
    expect(await groupInfo(station, "g")).toMatchObject({ discarded: 1, ackFloor: 1 });
  });

  it("keeps dead letters of two groups apart", async () => {
    const station = await stationWith(1, { maxDeliveries: 1 });
    await createGroups(station, ["a", "b"]);
    await exhaust(station, "a", 1);
    await exhaust(station, "b", 1);
    expect((await deadLetters(station, "?group=a")).map((l) => l.group)).toEqual(["a"]);
    expect(await deadLetters(station)).toHaveLength(2);
  });
});

describe("resend", () => {
  it("puts a dead letter back into its group durably, with nobody connected and across a restart", async () => {
    const station = await stationWith(1, { maxDeliveries: 1 });
    await createGroups(station, ["g"]);
    await exhaust(station, "g", 1);
    const [letter] = await deadLetters(station);
    const res = await api("POST", `/v1/stations/${station}/dls/resend`, { ids: [letter.id] });
    expect(res.body).toEqual({ resent: 1, missing: [], refused: [], more: false });
    await evictDurableObject(stationStub(station));
    expect(await deadLetters(station)).toEqual([]);
    const again = await take(station, "g", "later");
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ offset: 1, body: { n: 1 }, deliveries: 1 });
  });

  it("resends all dead letters of one group and leaves the rest", async () => {
    const station = await stationWith(3, { maxDeliveries: 1 });
    await createGroups(station, ["a", "b"]);
    await exhaust(station, "a", 1);
    await exhaust(station, "b", 1);
    const res = await api("POST", `/v1/stations/${station}/dls/resend`, { all: true, group: "a" });
    expect(res.body).toMatchObject({ resent: 3, refused: [], more: false });
    expect(offsetsOf(await take(station, "a", "c", 10))).toEqual([1, 2, 3]);
    expect(await take(station, "b", "c", 10)).toEqual([]);
    expect(await deadLetters(station)).toHaveLength(3);
  });

  it("names ids that are not dead letters and resends the others", async () => {
    const station = await stationWith(1, { maxDeliveries: 1 });
    await createGroups(station, ["g"]);
    await exhaust(station, "g", 1);
    const [letter] = await deadLetters(station);
    const res = await api("POST", `/v1/stations/${station}/dls/resend`, { ids: [letter.id, 999999] });
    expect(res.body).toEqual({ resent: 1, missing: [999999], refused: [], more: false });
  });

  it("refuses a dead letter that never got an offset (schema) and leaves it there", async () => {
    const station = await stationWith(0);
    const id = await runInDurableObject(stationStub(station), (_instance, state) =>
      addDeadLetter(
        state.storage.sql,
        {
          offset: null,
          group: null,
          reason: "schema_violation",
          deliveries: 0,
          message: { producer: "p", seq: 1, id: null, key: null, headers: null, body: '{"bad":true}', producedAt: 5, bytes: 12 },
          detail: { errors: ["todo is required"] },
        },
        Date.now(),
      ),
    );
    const [letter] = await deadLetters(station, "?reason=schema_violation");
    expect(letter).toMatchObject({
      id,
      offset: null,
      group: null,
      reason: "schema_violation",
      deliveries: 0,
      message: { offset: null, producer: "p", seq: 1, body: { bad: true }, headers: {} },
      detail: { errors: ["todo is required"] },
    });
    const res = await api("POST", `/v1/stations/${station}/dls/resend`, { ids: [id] });
    expect(res.body).toMatchObject({ resent: 0, refused: [{ id, code: "not_resendable" }] });
    expect(await deadLetters(station)).toHaveLength(1);
  });

  it("refuses a dead letter whose group was deleted", async () => {
    const station = await stationWith(1, { maxDeliveries: 1 });
    await createGroups(station, ["g"]);
    await exhaust(station, "g", 1);
    await api("DELETE", `/v1/stations/${station}/groups/g`);
    const [letter] = await deadLetters(station);
    const res = await api("POST", `/v1/stations/${station}/dls/resend`, { ids: [letter.id] });
    expect(res.body.refused).toEqual([{ id: letter.id, code: "group_not_found", message: expect.any(String) }]);
  });
});

describe("browse and drop", () => {
  it("pages oldest first with limit and after, and filters by reason", async () => {
    const station = await stationWith(5, { maxDeliveries: 1 });
    await createGroups(station, ["g"]);
    await exhaust(station, "g", 1);
    const page1 = await api("GET", `/v1/stations/${station}/dls?limit=2`);
    expect(offsetsOf(page1.body.deadLetters)).toEqual([1, 2]);
    expect(page1.body.next).toBe(page1.body.deadLetters[1].id);
    const page3 = await api("GET", `/v1/stations/${station}/dls?limit=2&after=${page1.body.next + 2}`);
    expect(offsetsOf(page3.body.deadLetters)).toEqual([5]);
    expect(page3.body.next).toBeNull();
    expect(await deadLetters(station, "?reason=webhook_failed")).toEqual([]);
  });

  it("drops one dead letter; dropping it again is 404", async () => {
    const station = await stationWith(1, { maxDeliveries: 1 });
    await createGroups(station, ["g"]);
    await exhaust(station, "g", 1);
    const [letter] = await deadLetters(station);
    expect((await api("DELETE", `/v1/stations/${station}/dls/${letter.id}`)).body).toEqual({ dropped: 1, id: letter.id });
    const again = await api("DELETE", `/v1/stations/${station}/dls/${letter.id}`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("dead_letter_not_found");
    expect((await stationInfo(station)).stats.deadLetters).toBe(0);
  });

  it("refuses bad queries and bodies with the error model", async () => {
    const station = await stationWith(0);
    const cases: Array<[string, string, unknown, number, string]> = [
      ["GET", "/dls?limit=0", undefined, 422, "invalid_request"],
      ["GET", "/dls?limit=5000", undefined, 422, "invalid_request"],
      ["GET", "/dls?reason=bored", undefined, 422, "invalid_request"],
      ["GET", "/dls?colour=red", undefined, 422, "invalid_request"],
      ["POST", "/dls/resend", { ids: [] }, 422, "invalid_request"],
      ["POST", "/dls/resend", { ids: [0] }, 422, "invalid_request"],
      ["POST", "/dls/resend", { all: false }, 422, "invalid_request"],
      ["POST", "/dls/resend", { ids: Array.from({ length: 1001 }, (_, i) => i + 1) }, 422, "invalid_request"],
      ["DELETE", "/dls/abc", undefined, 422, "invalid_request"],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await api(method, `/v1/stations/${station}${path}`, body);
      expect([method, path, res.status, res.body?.error?.code]).toEqual([method, path, status, code]);
    }
    expect((await api("GET", `/v1/stations/nope-${Date.now()}/dls`)).status).toBe(404);
  });
});
