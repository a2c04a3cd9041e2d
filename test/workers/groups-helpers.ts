// Helpers for the consumer group and DLS tests: the group routes as a client calls them, the
// station's object for alarms and restarts, and a seeded random source.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { expect } from "vitest";
import { api, createStation, produce } from "./helpers";
export { seededRandom } from "../seeded-random";

export function stationStub(name: string): DurableObjectStub {
  const ns = (env as unknown as { STATION: DurableObjectNamespace }).STATION;
  return ns.get(ns.idFromName(name));
}

const groupPath = (station: string, group: string) => `/v1/stations/${station}/groups/${group}`;

/**
 * Creates consumer groups with `PUT …/groups/{group}` (a fetch or subscribe never creates one:
 * that takes the manage right). Asserts 201 for each.
 */
export async function createGroups(station: string, groups: readonly string[], config: Record<string, unknown> = {}): Promise<void> {
  for (const group of groups) {
    const res = await api("PUT", groupPath(station, group), config);
    expect(res.status, `PUT group ${group}: ${JSON.stringify(res.body)}`).toBe(201);
  }
}

export async function fetchGroup(station: string, group: string, body: Record<string, unknown> = {}) {
  return api("POST", `${groupPath(station, group)}/fetch`, body);
}

/** Fetches and returns the messages, asserting a 200. */
export async function take(station: string, group: string, consumer: string, max = 10, waitMs = 0): Promise<any[]> {
  const res = await fetchGroup(station, group, { consumer, max, waitMs });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.messages;
}

export async function ack(station: string, group: string, offsets: number[]) {
  return api("POST", `${groupPath(station, group)}/ack`, { offsets });
}

export async function nack(station: string, group: string, offsets: number[], delayMs?: number) {
  return api("POST", `${groupPath(station, group)}/nack`, delayMs === undefined ? { offsets } : { offsets, delayMs });
}

export async function groupInfo(station: string, group: string) {
  const res = await api("GET", groupPath(station, group));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export async function stationInfo(station: string) {
  const res = await api("GET", `/v1/stations/${station}`);
  expect(res.status).toBe(200);
  return res.body;
}

export async function deadLetters(station: string, query = ""): Promise<any[]> {
  const res = await api("GET", `/v1/stations/${station}/dls${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.deadLetters;
}

/** A station with `count` messages whose bodies are `{n: 1..count}`. */
export async function stationWith(count: number, config: Record<string, unknown> = {}): Promise<string> {
  const station = await createStation(config);
  if (count > 0) await produceN(station, count);
  return station;
}

export async function produceN(station: string, count: number, from = 1): Promise<void> {
  for (let start = 0; start < count; start += 1000) {
    const n = Math.min(1000, count - start);
    const res = await produce(station, { messages: Array.from({ length: n }, (_, i) => ({ body: { n: from + start + i } })) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
}

/** Lets real time pass (leases and delays are measured on the object's clock). */
export function pass(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs the object's alarm now (if one is set), as the runtime would when it comes due. */
export async function fireAlarm(station: string): Promise<boolean> {
  return runDurableObjectAlarm(stationStub(station));
}

export const offsetsOf = (messages: any[]): number[] => messages.map((m) => m.offset);

