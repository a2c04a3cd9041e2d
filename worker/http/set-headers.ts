// Sets headers on the response a handler produced, even when its headers are immutable (a
// Response from fetch() or a Durable Object): then it is copied once into a mutable one.
import type { Context } from "hono";

/** `set` replaces headers; `append` adds to a list header such as Vary. */
export function setHeaders(c: Context, set: Record<string, string>, append: Record<string, string> = {}): void {
  try {
    apply(c.res.headers, set, append);
  } catch {
    c.res = new Response(c.res.body, c.res);
    apply(c.res.headers, set, append);
  }
}

function apply(headers: Headers, set: Record<string, string>, append: Record<string, string>): void {
  for (const [name, value] of Object.entries(set)) headers.set(name, value);
  for (const [name, value] of Object.entries(append)) {
    const current = headers.get(name);
    if (!current) headers.set(name, value);
    else if (!current.split(",").some((item) => item.trim().toLowerCase() === value.toLowerCase())) headers.set(name, `${current}, ${value}`);
  }
}
