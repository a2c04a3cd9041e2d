// Helpers for the consumer group tests of partitioned stations: a station made of N partition
// objects (each configured as its partition, partition 0 last, as a station PUT does), messages
// produced straight to the partition their key routes to, and the group routes as a client
// calls them with `{partition, offset}` refs.
import { env } from "cloudflare:workers";
import * as v from "valibot";
import { expect } from "vitest";
import { StationConfigSchema } from "../../shared/config";
import { partitionFor } from "../../shared/partitions";
import { encodeMessage } from "../../worker/station/log";
import { partitionStub } from "../../worker/partitions/objects";
import { api, uniqueStation } from "./helpers";

export const groupPath = (station: string, group: string) => `/v1/stations/${station}/groups/${group}`;

/** A station of `partitions` partitions with `config`; partition 0 is configured last (it holds the count). */
export async function partitionedStation(partitions: number, config: Record<string, unknown> = {}, name = uniqueStation("pg")): Promise<string> {
  const full = v.parse(StationConfigSchema, { ...config, partitions });
  for (let partition = partitions - 1; partition >= 0; partition--) {
    const made = await partitionStub(env, name, partition).configure(name, full, partition);
    expect(made.ok, JSON.stringify(made)).toBe(true);
  }
  return name;
}

/** Grows a station to `partitions`: the new partitions first, then partition 0's count. */
export async function growStation(station: string, from: number, partitions: number, config: Record<string, unknown> = {}): Promise<void> {
  const full = v.parse(StationConfigSchema, { ...config, partitions });
  for (let partition = partitions - 1; partition >= from; partition--) {
    const made = await partitionStub(env, station, partition).configure(station, full, partition);
    expect(made.ok, JSON.stringify(made)).toBe(true);
  }
  const zero = await partitionStub(env, station, 0).configure(station, full, 0);
  expect(zero.ok, JSON.stringify(zero)).toBe(true);
}

export interface Produced {
  key: string;
  partition: number;
  offset: number;
  body: unknown;
}

/** Produces keyed messages, each to the partition its key routes to; answers where each went, in the order given. */
export async function produceKeyed(station: string, partitions: number, messages: ReadonlyArray<{ key: string; body: unknown; delayMs?: number }>): Promise<Produced[]> {
  const byPartition = new Map<number, Array<{ index: number; message: (typeof messages)[number] }>>();
  messages.forEach((message, index) => {
    const partition = partitionFor(message.key, null, partitions)!;
    const list = byPartition.get(partition) ?? [];
    list.push({ index, message });
    byPartition.set(partition, list);
  });
  const out: Produced[] = new Array(messages.length);
  for (const [partition, list] of byPartition) {
    const batch = { producer: null, messages: list.map((item) => encodeMessage(item.message)) };
    const answer: any = await partitionStub(env, station, partition).produce(batch);
    expect(answer.ok, JSON.stringify(answer)).toBe(true);
    if (!answer.ok) continue;
    answer.value.results.forEach((result: any, i: number) => {
      const { index, message } = list[i]!;
      expect(result.partition).toBe(partition);
      out[index] = { key: message.key, partition, offset: result.offset!, body: message.body };
    });
  }
  return out;
}

/** A key that routes to `partition` of `partitions` (found by trying k0, k1, …). */
export function keyFor(partition: number, partitions: number, prefix = "k"): string {
  for (let i = 0; ; i++) {
    const key = `${prefix}${i}`;
    if (partitionFor(key, null, partitions) === partition) return key;
  }
}

/** `count` messages in every partition: bodies `{p, n}` with n = 1…count. */
export async function fillEveryPartition(station: string, partitions: number, count: number): Promise<void> {
  const messages = [];
  for (let p = 0; p < partitions; p++) {
    const key = keyFor(p, partitions);
    for (let n = 1; n <= count; n++) messages.push({ key, body: { p, n } });
  }
  await produceKeyed(station, partitions, messages);
}

export async function putGroup(station: string, group: string, config: Record<string, unknown> = {}) {
  return api("PUT", groupPath(station, group), config);
}

export async function fetchMessages(station: string, group: string, body: Record<string, unknown> = {}): Promise<any[]> {
  const res = await api("POST", `${groupPath(station, group)}/fetch`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.messages;
}

export const refsOf = (messages: any[]) => messages.map((m) => (m.epoch === undefined ? { partition: m.partition, offset: m.offset } : { partition: m.partition, offset: m.offset, epoch: m.epoch }));

export async function settle(station: string, group: string, verb: "ack" | "nack" | "extend" | "dead-letter", body: Record<string, unknown>) {
  return api("POST", `${groupPath(station, group)}/${verb}`, body);
}

export async function readGroup(station: string, group: string) {
  const res = await api("GET", groupPath(station, group));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Per partition, the offsets of `messages` in the order they came. */
export function byPartition(messages: any[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const m of messages) out.set(m.partition, [...(out.get(m.partition) ?? []), m.offset]);
  return out;
}
