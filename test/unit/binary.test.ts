// The base64 codec of shared/binary.ts against Node's Buffer, and the `{"$binary": …}` body rules.
import { describe, expect, it } from "vitest";
import { decodeBase64, decodeBinaryBody, encodeBase64, encodeBinaryBody, isBinaryBody } from "../../shared/binary";

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe("base64", () => {
  it("encodes like Buffer and decodes its own output, for every length up to 300 and a large input", () => {
    for (const length of [...Array.from({ length: 300 }, (_, i) => i), 100_003]) {
      const input = bytes(length, length + 1);
      const text = encodeBase64(input);
      expect(text).toBe(Buffer.from(input).toString("base64"));
      expect(decodeBase64(text)).toEqual(input);
    }
  });

  it("decodes base64url, missing padding, and a space where a query decoder left a plus", () => {
    const input = bytes(1000, 7);
    expect(decodeBase64(Buffer.from(input).toString("base64url"))).toEqual(input);
    expect(decodeBase64(Buffer.from(input).toString("base64").replace(/=+$/, ""))).toEqual(input);
    expect(decodeBase64(Buffer.from(input).toString("base64").replaceAll("+", " "))).toEqual(input);
  });

  it("refuses text that is not base64", () => {
    for (const text of ["a", "ab*c", "abc===", "é", "abcde"]) expect(decodeBase64(text), text).toBeNull();
  });
});

describe("binary bodies", () => {
  it("round-trips bytes through JSON", () => {
    const input = bytes(64, 3);
    const body = JSON.parse(JSON.stringify(encodeBinaryBody(input)));
    expect(isBinaryBody(body)).toBe(true);
    expect(decodeBinaryBody(body)).toEqual(input);
  });

  it("is only an object with the single key $binary holding a string", () => {
    expect(isBinaryBody({ $binary: "AA==", other: 1 })).toBe(false);
    expect(isBinaryBody({ $binary: 1 })).toBe(false);
    expect(isBinaryBody(["AA=="])).toBe(false);
    expect(decodeBinaryBody({ text: "hi" })).toBeNull();
  });
});
