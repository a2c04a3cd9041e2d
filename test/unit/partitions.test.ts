// The partition hash, pinned by FNV-1a's published 32-bit test vectors, and the routing rule:
// by key, else by producer, else anywhere. The worker and the SDK both route with these.
import { describe, expect, it } from "vitest";
import { fnv1a32, messageRefsOf, partitionFor, refsByPartition } from "../../shared/partitions";

describe("fnv1a32", () => {
  it("matches the published FNV-1a 32-bit test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("hashes the UTF-8 bytes, as TextEncoder gives them", () => {
    for (const text of ["é", "€uro", "日本語", "😀 emoji", "lone \ud800 surrogate", "x".repeat(300)]) {
      let hash = 0x811c9dc5;
      for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193);
      expect(fnv1a32(text), text).toBe(hash >>> 0);
    }
  });
});

describe("partitionFor", () => {
  it("is 0 on an unpartitioned station, whatever the key", () => {
    expect(partitionFor("k", "p", 1)).toBe(0);
    expect(partitionFor(null, null, 1)).toBe(0);
  });

  it("routes by key, else by producer, else leaves the choice open", () => {
    expect(partitionFor("user-1", "producer-a", 8)).toBe(fnv1a32("user-1") % 8);
    expect(partitionFor(null, "producer-a", 8)).toBe(fnv1a32("producer-a") % 8);
    expect(partitionFor(undefined, undefined, 8)).toBeNull();
  });

  it("spreads many keys over every partition", () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[partitionFor(`key-${i}`, null, 8)!]!++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});

describe("message refs", () => {
  it("reads the offsets form as partition 0 with the request's epoch", () => {
    expect(messageRefsOf({ offsets: [3, 4], epoch: 2 })).toEqual([
      { partition: 0, offset: 3, epoch: 2 },
      { partition: 0, offset: 4, epoch: 2 },
    ]);
    expect(messageRefsOf({ offsets: [3] })).toEqual([{ partition: 0, offset: 3 }]);
  });

  it("groups refs by partition, keeping their order", () => {
    const refs = [
      { partition: 1, offset: 9 },
      { partition: 0, offset: 2 },
      { partition: 1, offset: 4 },
    ];
    expect([...refsByPartition(refs)]).toEqual([
      [1, [refs[0], refs[2]]],
      [0, [refs[1]]],
    ]);
  });
});
