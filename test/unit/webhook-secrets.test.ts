// Webhook secrets at rest: sealed with AES-GCM under WEBHOOK_SECRET_KEY, opened with it or with
// WEBHOOK_SECRET_KEY_PREVIOUS (and then marked for re-sealing), plain rows from before still
// read; and the signing-secret rotation that keeps every old secret still in its grace.
import { describe, expect, it } from "vitest";
import { MAX_PREVIOUS_SECRETS } from "../../shared/webhooks";
import {
  loadKeyRing,
  open,
  openEndpointSecrets,
  previousExpiries,
  rotateSecrets,
  seal,
  sealEndpointSecrets,
  secretKeyProblem,
  signingSecrets,
} from "../../worker/station/webhooks/secrets";

const KEY_A = "key-a-0123456789abcdefghijklmnopqrstuvwxyz";
const KEY_B = "key-b-0123456789abcdefghijklmnopqrstuvwxyz";
const S1 = "whsec_" + btoa("1".repeat(32));
const S2 = "whsec_" + btoa("2".repeat(32));
const S3 = "whsec_" + btoa("3".repeat(32));
const S4 = "whsec_" + btoa("4".repeat(32));
const S5 = "whsec_" + btoa("5".repeat(32));
const HOUR = 3_600_000;

describe("sealing webhook secrets", () => {
  it("is not configured without a key of 32+ characters", async () => {
    expect(secretKeyProblem({})).toMatch(/WEBHOOK_SECRET_KEY/);
    expect(secretKeyProblem({ WEBHOOK_SECRET_KEY: "short" })).toMatch(/32/);
    expect(secretKeyProblem({ WEBHOOK_SECRET_KEY: KEY_A })).toBeNull();
    expect(await loadKeyRing({})).toBeNull();
    expect(await loadKeyRing({ WEBHOOK_SECRET_KEY_PREVIOUS: KEY_A })).toBeNull();
  });

  it("seals to a value that holds neither the secret nor its bytes, and opens it again", async () => {
    const ring = (await loadKeyRing({ WEBHOOK_SECRET_KEY: KEY_A }))!;
    const sealed = await seal(ring, S1, "webhook a secret");
    expect(sealed).toMatch(/^wsk1:[0-9a-f]{16}:/);
    expect(sealed).not.toContain(S1.slice(6));
    expect(sealed).not.toContain("1111");
    expect(await seal(ring, S1, "webhook a secret")).not.toBe(sealed); // a fresh IV each time
    expect(await open(ring, sealed, "webhook a secret")).toEqual({ ok: true, plaintext: S1, stale: false });
  });

  it("refuses a value sealed for another endpoint, tampered with, or under an unknown key", async () => {
    const ring = (await loadKeyRing({ WEBHOOK_SECRET_KEY: KEY_A }))!;
    const other = (await loadKeyRing({ WEBHOOK_SECRET_KEY: KEY_B }))!;
    const sealed = await seal(ring, S1, "webhook a secret");
    expect(await open(ring, sealed, "webhook b secret")).toEqual({ ok: false });
    const tampered = sealed.slice(0, -4) + (sealed.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect(await open(ring, tampered, "webhook a secret")).toEqual({ ok: false });
    expect(await open(other, sealed, "webhook a secret")).toEqual({ ok: false });
    expect(await open(ring, "garbage", "webhook a secret")).toEqual({ ok: false });
  });

  it("opens under the previous key during a key rotation, and marks it stale for re-sealing", async () => {
    const before = (await loadKeyRing({ WEBHOOK_SECRET_KEY: KEY_A }))!;
    const during = (await loadKeyRing({ WEBHOOK_SECRET_KEY: KEY_B, WEBHOOK_SECRET_KEY_PREVIOUS: KEY_A }))!;
    const sealedA = await seal(before, S1, "webhook a secret");
    expect(await open(during, sealedA, "webhook a secret")).toEqual({ ok: true, plaintext: S1, stale: true });
    const sealedB = await seal(during, S1, "webhook a secret");
    expect(sealedB.split(":")[1]).not.toBe(sealedA.split(":")[1]); // the key id says which key
    expect(await open(during, sealedB, "webhook a secret")).toEqual({ ok: true, plaintext: S1, stale: false });
  });

  it("reads a plain-text row from before sealing, and marks it stale", async () => {
    const ring = (await loadKeyRing({ WEBHOOK_SECRET_KEY: KEY_A }))!;
    const legacy = { secret: S2, previous_secret: S1, previous_secret_expires_at: 5 * HOUR };
    const opened = await openEndpointSecrets(ring, "a", legacy, 0);
    expect(opened).toEqual({ ok: true, stale: true, secrets: { current: S2, previous: [{ secret: S1, expiresAt: 5 * HOUR }] } });
    const sealed = await sealEndpointSecrets(ring, "a", opened.ok ? opened.secrets : (null as never), 0);
    expect(JSON.stringify(sealed)).not.toContain(S1.slice(6));
    expect(JSON.stringify(sealed)).not.toContain(S2.slice(6));
    expect(sealed.previous_secret_expires_at).toBe(5 * HOUR);
    expect(previousExpiries(sealed, 0)).toEqual([5 * HOUR]);
    expect(await openEndpointSecrets(ring, "a", sealed, 0)).toEqual({ ok: true, stale: false, secrets: { current: S2, previous: [{ secret: S1, expiresAt: 5 * HOUR }] } });
  });
});

describe("rotating an endpoint's signing secret", () => {
  const start = { current: S1, previous: [] };

  it("keeps the first old secret when a second rotation comes within the grace", () => {
    const once = rotateSecrets(start, S2, 24 * HOUR, 0);
    const twice = rotateSecrets(once.ok ? once.value : (null as never), S3, 24 * HOUR, HOUR);
    expect(twice).toEqual({
      ok: true,
      value: { current: S3, previous: [{ secret: S2, expiresAt: 25 * HOUR }, { secret: S1, expiresAt: 24 * HOUR }] },
    });
    expect(signingSecrets(twice.ok ? twice.value : (null as never), 2 * HOUR)).toEqual([S3, S2, S1]);
    expect(signingSecrets(twice.ok ? twice.value : (null as never), 24 * HOUR + 1)).toEqual([S3, S2]);
  });

  it(`refuses a rotation beyond ${MAX_PREVIOUS_SECRETS} old secrets in grace with secret_rotation_limit, and allows it once one expired`, () => {
    let secrets = start as { current: string; previous: { secret: string; expiresAt: number }[] };
    for (const [i, next] of [S2, S3, S4].entries()) {
      const rotated = rotateSecrets(secrets, next, 10 * HOUR, i * HOUR);
      expect(rotated.ok).toBe(true);
      if (rotated.ok) secrets = rotated.value;
    }
    const refused = rotateSecrets(secrets, S5, 10 * HOUR, 3 * HOUR);
    expect(refused).toMatchObject({ ok: false, error: { code: "secret_rotation_limit", max: MAX_PREVIOUS_SECRETS, retryAt: 10 * HOUR } });
    expect(rotateSecrets(secrets, S5, 10 * HOUR, 10 * HOUR)).toMatchObject({ ok: true, value: { current: S5, previous: [{ secret: S4 }, { secret: S3 }, { secret: S2 }] } });
  });

  it("ends every old secret on a rotation with rotationGraceMs 0, and changes nothing for the same secret", () => {
    const once = rotateSecrets(start, S2, HOUR, 0);
    expect(rotateSecrets(once.ok ? once.value : (null as never), S3, 0, 1)).toEqual({ ok: true, value: { current: S3, previous: [] } });
    expect(rotateSecrets(start, S1, HOUR, 0)).toEqual({ ok: true, value: start });
  });
});
