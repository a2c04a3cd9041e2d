// Helpers for the schema tests: unique schema names, adding versions, stations bound to them.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Env } from "../../worker/env";
import { api, createStation } from "./helpers";

export const bindings = env as unknown as Env;

let counter = 0;
export function uniqueSchema(prefix = "sc"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

/** `compatibility` sets the schema's rule (tests of numbering and enforcement use "none" to add a stricter v2). */
export function putSchema(name: string, schema: unknown, description?: string, compatibility?: string) {
  return api("PUT", `/v1/schemas/${name}`, {
    schema,
    ...(description === undefined ? {} : { description }),
    ...(compatibility === undefined ? {} : { compatibility }),
  });
}

/** Adds a version and returns its number; fails the test on anything but 201/200. */
export async function addVersion(name: string, schema: unknown, compatibility?: string): Promise<number> {
  const res = await putSchema(name, schema, undefined, compatibility);
  if (res.status !== 201 && res.status !== 200) throw new Error(`put schema ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.version as number;
}

/** A todo: `{todo: string ≤ 20}`, nothing else. */
export const TODO_V1 = {
  type: "object",
  required: ["todo"],
  properties: { todo: { type: "string", maxLength: 20 } },
  additionalProperties: false,
};

/** v2 also needs `done: boolean`. */
export const TODO_V2 = {
  type: "object",
  required: ["todo", "done"],
  properties: { todo: { type: "string", maxLength: 20 }, done: { type: "boolean" } },
  additionalProperties: false,
};

export async function stationWithSchema(schema: string, version: number | "latest", extra: Record<string, unknown> = {}): Promise<string> {
  return createStation({ schema: { name: schema, version }, ...extra });
}

/** Untyped: the Station's RPC types are too deep for runInDurableObject's inference. */
export function stationStub(name: string): any {
  return bindings.STATION.get(bindings.STATION.idFromName(name));
}

/** Runs `fn` inside a station's object (untyped: the RPC types are too deep to infer here). */
export function inStation<R>(name: string, fn: (instance: any) => R): Promise<R> {
  const run = runInDurableObject as unknown as (stub: unknown, callback: (instance: any) => R) => Promise<R>;
  return run(stationStub(name), fn);
}
