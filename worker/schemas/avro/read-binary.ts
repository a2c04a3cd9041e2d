// Decodes Avro binary (the specification's encoding, no container file, no schema id prefix) into
// the JSON form check-json.ts accepts: unions as {"<branch>": value}, bytes and fixed as strings
// of code points 0–255, longs beyond ±(2^53 − 1) as decimal strings, NaN/±Infinity as strings.
// The whole input must be one value. Throws AvroValueError on anything else.
import { type AvroType, AvroValueError, branchName, MAX_AVRO_DEPTH, MAX_AVRO_VALUES } from "./types";

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

export function decodeAvroBinary(type: AvroType, bytes: Uint8Array): unknown {
  const reader = new Reader(bytes);
  const value = reader.value(type, "", 0);
  const left = bytes.length - reader.pos;
  if (left > 0) throw new AvroValueError("", `${left} byte${left === 1 ? "" : "s"} left over after the value`);
  return value;
}

class Reader {
  pos = 0;
  private values = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  value(type: AvroType, path: string, depth: number): unknown {
    if (depth > MAX_AVRO_DEPTH) throw new AvroValueError(path, `nests deeper than ${MAX_AVRO_DEPTH} levels`);
    if (++this.values > MAX_AVRO_VALUES) throw new AvroValueError(path, `holds more than ${MAX_AVRO_VALUES} values`);
    switch (type.kind) {
      case "null":
        return null;
      case "boolean": {
        const byte = this.take(1, path)[0]!;
        if (byte > 1) throw new AvroValueError(path, `a boolean is 0 or 1, got ${byte}`);
        return byte === 1;
      }
      case "int":
        return this.int(path);
      case "long": {
        const n = this.long(path);
        return n >= SAFE_MIN && n <= SAFE_MAX ? Number(n) : n.toString();
      }
      case "float":
        return jsonNumber(this.view.getFloat32(this.advance(4, path), true));
      case "double":
        return jsonNumber(this.view.getFloat64(this.advance(8, path), true));
      case "bytes":
        return latin1(this.take(this.length(path), path));
      case "string":
        try {
          return UTF8.decode(this.take(this.length(path), path));
        } catch (error) {
          if (error instanceof AvroValueError) throw error;
          throw new AvroValueError(path, "a string is not valid UTF-8");
        }
      case "fixed":
        return latin1(this.take(type.size, path));
      case "enum": {
        const index = this.int(path);
        const symbol = type.symbols[index];
        if (symbol === undefined) throw new AvroValueError(path, `enum ${type.name} has no symbol ${index}`);
        return symbol;
      }
      case "array": {
        const items: unknown[] = [];
        this.blocks(path, () => items.push(this.value(type.items, `${path}/${items.length}`, depth + 1)));
        return items;
      }
      case "map": {
        const map: Record<string, unknown> = {};
        this.blocks(path, () => {
          const key = this.value({ kind: "string" }, path, depth + 1) as string;
          put(map, key, this.value(type.values, `${path}/${escape(key)}`, depth + 1));
        });
        return map;
      }
      case "record": {
        const record: Record<string, unknown> = {};
        for (const field of type.fields) put(record, field.name, this.value(field.type, `${path}/${escape(field.name)}`, depth + 1));
        return record;
      }
      case "union": {
        const index = this.long(path);
        const branch = index >= 0n && index < BigInt(type.branches.length) ? type.branches[Number(index)]! : undefined;
        if (!branch) throw new AvroValueError(path, `the union has no branch ${index}`);
        if (branch.kind === "null") return null;
        const name = branchName(branch);
        const wrapped: Record<string, unknown> = {};
        put(wrapped, name, this.value(branch, `${path}/${escape(name)}`, depth + 1));
        return wrapped;
      }
    }
  }

  /** Array and map items: blocks of a count (a negative count is followed by the block's byte size), ended by 0. */
  private blocks(path: string, readItem: () => void): void {
    for (;;) {
      let count = this.long(path);
      if (count === 0n) return;
      if (count < 0n) {
        count = -count;
        if (this.long(path) < 0n) throw new AvroValueError(path, "a block's byte size is negative");
      }
      if (count > BigInt(MAX_AVRO_VALUES)) throw new AvroValueError(path, `a block of ${count} items is more than ${MAX_AVRO_VALUES}`);
      for (let i = Number(count); i > 0; i--) readItem();
    }
  }

  /** A zig-zag varint of at most 5 bytes that fits 32 bits. */
  private int(path: string): number {
    let unsigned = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 28) throw new AvroValueError(path, "an int's varint runs past 5 bytes");
      const byte = this.take(1, path)[0]!;
      unsigned += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
    }
    if (unsigned > 0xffffffff) throw new AvroValueError(path, "an int overflows 32 bits");
    return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
  }

  /** A zig-zag varint of at most 10 bytes that fits 64 bits. */
  private long(path: string): bigint {
    let unsigned = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (shift > 63n) throw new AvroValueError(path, "a long's varint runs past 10 bytes");
      const byte = this.take(1, path)[0]!;
      unsigned |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
    }
    if (unsigned > 0xffffffffffffffffn) throw new AvroValueError(path, "a long overflows 64 bits");
    return (unsigned >> 1n) ^ -(unsigned & 1n);
  }

  /** A length prefix (bytes, string): a long, not negative. */
  private length(path: string): number {
    const n = this.long(path);
    if (n < 0n) throw new AvroValueError(path, `a length is negative (${n})`);
    if (n > BigInt(this.bytes.length - this.pos)) throw new AvroValueError(path, `a length of ${n} runs past the end of the input`);
    return Number(n);
  }

  private take(count: number, path: string): Uint8Array {
    const start = this.advance(count, path);
    return this.bytes.subarray(start, start + count);
  }

  private advance(count: number, path: string): number {
    if (this.pos + count > this.bytes.length) throw new AvroValueError(path, "the input ends in the middle of a value");
    const start = this.pos;
    this.pos += count;
    return start;
  }
}

function jsonNumber(n: number): number | string {
  return Number.isFinite(n) ? n : String(n);
}

/** Bytes as Avro's JSON encoding writes them: one code point 0–255 per byte. */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return text;
}

/** Sets a key as an own property, even `__proto__`. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function escape(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
