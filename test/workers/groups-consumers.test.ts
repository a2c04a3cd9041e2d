// Consumers seen per group: who fetched or subscribed, when last, how many leases each holds
// now; the newest first in the group stats, a bounded number kept, forgotten with the group.
import { exports } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, api, createStation } from "./helpers";
import { ack, groupInfo, pass, stationInfo, stationStub, stationWith, take, createGroups } from "./groups-helpers";

function consumersOf(info: any): Array<{ name: string; lastSeenAt: number; pending: number }> {
  expect(info.consumers, JSON.stringify(info)).toBeInstanceOf(Array);
  return info.consumers;
}

async function countKept(station: string, group: string): Promise<number> {
  return runInDurableObject(stationStub(station), (_instance, state) =>
    state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM group_consumers WHERE group_name = ?", group).one().n,
  );
}

describe("consumers seen", () => {
  it("lists each consumer that fetched, newest first, with the leases it holds", async () => {
    const station = await stationWith(10);
    await createGroups(station, ["g"]);
    await take(station, "g", "alice", 3);
    await pass(5);
    await take(station, "g", "bob", 2);
    const consumers = consumersOf(await groupInfo(station, "g"));
    expect(consumers.map((c) => [c.name, c.pending])).toEqual([
      ["bob", 2],
      ["alice", 3],
    ]);
    expect(consumers[0]!.lastSeenAt).toBeGreaterThan(consumers[1]!.lastSeenAt);
    expect(consumers[0]!.lastSeenAt).toBeLessThanOrEqual(Date.now());
  });

  it("shows the same consumers in the station info's groups", async () => {
    const station = await stationWith(4);
    await createGroups(station, ["g1", "g2"]);
    await take(station, "g1", "alice", 1);
    await take(station, "g2", "bob", 2);
    const info = await stationInfo(station);
    const byGroup = Object.fromEntries(info.groups.map((g: any) => [g.name, consumersOf(g).map((c) => [c.name, c.pending])]));
    expect(byGroup).toEqual({ g1: [["alice", 1]], g2: [["bob", 2]] });
  });

  it("moves a consumer's last seen on each fetch, even an empty one, and drops its pending on ack", async () => {
    const station = await stationWith(2);
    await createGroups(station, ["g"]);
    const first = await take(station, "g", "alice", 2);
    const before = consumersOf(await groupInfo(station, "g"))[0]!;
    await pass(5);
    await ack(station, "g", first.map((m) => m.offset));
    expect(await take(station, "g", "alice", 2)).toEqual([]);
    const after = consumersOf(await groupInfo(station, "g"));
    expect(after).toHaveLength(1);
    expect(after[0]!.name).toBe("alice");
    expect(after[0]!.pending).toBe(0);
    expect(after[0]!.lastSeenAt).toBeGreaterThan(before.lastSeenAt);
  });

  it("counts a WebSocket subscriber as seen", async () => {
    const station = await stationWith(1);
    await createGroups(station, ["g"]);
    const res = await (exports as any).default.fetch(
      new Request(`https://waystation.test/v1/stations/${station}/groups/g/subscribe?consumer=sock&credit=1`, {
        headers: { upgrade: "websocket", authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    );
    expect(res.status).toBe(101);
    const socket: WebSocket = res.webSocket;
    socket.accept();
    const consumers = consumersOf(await groupInfo(station, "g"));
    expect(consumers.map((c) => [c.name, c.pending])).toEqual([["sock", 1]]);
    socket.close(1000, "done");
  });

  it("forgets a group's consumers when the group is deleted", async () => {
    const station = await stationWith(3);
    await createGroups(station, ["g"]);
    await take(station, "g", "alice", 1);
    await take(station, "g", "bob", 1);
    expect((await api("DELETE", `/v1/stations/${station}/groups/g`)).status).toBe(200);
    expect(await countKept(station, "g")).toBe(0);
    await createGroups(station, ["g"]);
    await take(station, "g", "carol", 1);
    expect(consumersOf(await groupInfo(station, "g")).map((c) => c.name)).toEqual(["carol"]);
  });

  it("forgets them when the station is deleted", async () => {
    const station = await stationWith(2);
    await createGroups(station, ["g"]);
    await take(station, "g", "alice", 1);
    expect((await api("DELETE", `/v1/stations/${station}`)).status).toBe(200);
    await createStation({}, station);
    await api("PUT", `/v1/stations/${station}/groups/g`, {});
    expect(consumersOf(await groupInfo(station, "g"))).toEqual([]);
  });

  it("keeps them across an eviction of the object", async () => {
    const station = await stationWith(5);
    await createGroups(station, ["g"]);
    await take(station, "g", "alice", 2);
    await take(station, "g", "bob", 1);
    const before = consumersOf(await groupInfo(station, "g"));
    await evictDurableObject(stationStub(station));
    const after = consumersOf(await groupInfo(station, "g"));
    expect(after).toEqual(before);
    expect(after.map((c) => c.name).sort()).toEqual(["alice", "bob"]);
  });

  it("keeps the 100 most recently seen per group and shows the newest 20", async () => {
    const station = await stationWith(0);
    await createGroups(station, ["g"]);
    for (let i = 1; i <= 105; i++) {
      await take(station, "g", `c${String(i).padStart(3, "0")}`, 1);
      await pass(1);
    }
    expect(await countKept(station, "g")).toBe(100);
    const names = consumersOf(await groupInfo(station, "g")).map((c) => c.name);
    expect(names).toHaveLength(20);
    expect(names[0]).toBe("c105");
    expect(names.at(-1)).toBe("c086");
    const oldest = await runInDurableObject(stationStub(station), (_instance, state) =>
      state.storage.sql.exec<{ consumer: string }>("SELECT consumer FROM group_consumers WHERE group_name = 'g' ORDER BY last_seen_at LIMIT 1").one().consumer,
    );
    expect(oldest).toBe("c006");
  });
});
