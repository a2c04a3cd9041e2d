// Webhook signing secrets at rest and in rotation: the station's row holds them sealed (AES-GCM
// under WEBHOOK_SECRET_KEY), deliveries are still signed and verify with `standardwebhooks`,
// nothing is saved or sent without the key, plain rows from before keep working and are sealed
// on first use, rows under the previous key are re-sealed, and a second rotation within the
// grace keeps the first old secret signing.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import { buildApp } from "../../worker/app";
import { loadKeyRing, sealEndpointSecrets } from "../../worker/station/webhooks";
import { ADMIN_TOKEN, api, createStation, produce } from "./helpers";
import { getWebhook, headersOf, mockReceiver, putWebhook, type Receiver, storedEndpoint, waitFor, writeEndpointSecrets } from "./webhook-helpers";

vi.setConfig({ testTimeout: 30_000 });

const URL_A = "http://receiver.test/secrets";
const secretOf = (fill: number) => "whsec_" + btoa(String.fromCharCode(...new Array(32).fill(fill)));
const S1 = secretOf(1);
const S2 = secretOf(2);
const S3 = secretOf(3);
const S4 = secretOf(4);
const S5 = secretOf(5);

let receiver: Receiver;
beforeEach(() => {
  receiver = mockReceiver();
});
afterEach(() => receiver.restore());

/** Every secret and its base64 body must be absent from the stored row. */
function expectNoPlainSecret(row: Record<string, unknown>, secrets: string[]) {
  const text = JSON.stringify(row);
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice("whsec_".length, "whsec_".length + 16));
  }
}

describe("webhook secrets at rest", () => {
  it("stores the secret sealed, never in plain text, and still signs deliveries that verify", async () => {
    const station = await createStation();
    const generated = await putWebhook(station, "made", { url: URL_A });
    await putWebhook(station, "given", { url: URL_A, secret: S1 });
    const madeRow = await storedEndpoint(station, "made");
    const givenRow = await storedEndpoint(station, "given");
    expect(madeRow.secret).toMatch(/^wsk1:[0-9a-f]{16}:/);
    expect(givenRow.secret).toMatch(/^wsk1:/);
    expectNoPlainSecret(madeRow, [generated.body.secret]);
    expectNoPlainSecret(givenRow, [S1]);

    await produce(station, { messages: [{ body: { n: 1 } }] });
    await waitFor(() => receiver.calls.length >= 2, 10_000, "both deliveries");
    const byEndpoint = (secret: string) => receiver.calls.filter((call) => {
      try {
        new Webhook(secret).verify(call.body, headersOf(call));
        return true;
      } catch {
        return false;
      }
    });
    expect(byEndpoint(generated.body.secret)).toHaveLength(1);
    expect(byEndpoint(S1)).toHaveLength(1);
  });

  it("keeps rotated-out secrets sealed too", async () => {
    const station = await createStation();
    await putWebhook(station, "rot", { url: URL_A, secret: S1 });
    await putWebhook(station, "rot", { url: URL_A, secret: S2 });
    const row = await storedEndpoint(station, "rot");
    expect(row.previous_secret).not.toBeNull();
    expectNoPlainSecret(row, [S1, S2]);
  });

  it("answers 503 not_configured to a PUT without WEBHOOK_SECRET_KEY, and saves nothing", async () => {
    const station = await createStation();
    const { WEBHOOK_SECRET_KEY: _key, ...withoutKey } = env;
    for (const workerEnv of [withoutKey, { ...withoutKey, WEBHOOK_SECRET_KEY: "too-short" }]) {
      const res = await buildApp().fetch(
        new Request(`https://waystation.test/v1/stations/${station}/webhooks/nokey`, {
          method: "PUT",
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ url: URL_A }),
        }),
        workerEnv,
      );
      expect(res.status).toBe(503);
      expect(((await res.json()) as any).error.code).toBe("not_configured");
    }
    expect((await api("GET", `/v1/stations/${station}/webhooks/nokey`)).status).toBe(404);
  });

  it("sends nothing, unsigned or otherwise, when no key it has opens the secret; the message waits", async () => {
    const station = await createStation();
    await putWebhook(station, "locked", { url: URL_A, retry: { scheduleMs: [10] } });
    const foreign = (await loadKeyRing({ WEBHOOK_SECRET_KEY: "a-key-this-worker-never-had-0123456789" }))!;
    await writeEndpointSecrets(station, "locked", await sealEndpointSecrets(foreign, "locked", { current: S1, previous: [] }, Date.now()));
    await produce(station, { messages: [{ body: 1 }] });
    const info = await waitFor(async () => {
      const w = await getWebhook(station, "locked");
      return w.health.lastError !== null && w;
    }, 10_000, "the attempt that could not sign");
    expect(receiver.calls).toHaveLength(0);
    expect(info.health).toMatchObject({ lastStatus: null, lastError: "secret unavailable", consecutiveFailures: 0, deadLettered: 0 });
    expect(info.cursor.pending).toBe(1);
    expect((await api("GET", `/v1/stations/${station}/dls`)).body.deadLetters).toEqual([]);
    // A PUT without a secret cannot keep what it cannot open; a new secret gets it going again.
    const keep = await putWebhook(station, "locked", { url: URL_A });
    expect(keep.status).toBe(503);
    expect(keep.body.error.code).toBe("not_configured");
    expect((await putWebhook(station, "locked", { url: URL_A, secret: S2, retry: { scheduleMs: [10] } })).status).toBe(200);
  });

  it("delivers from a plain-text row from before sealing, and seals it on first use", async () => {
    const station = await createStation();
    await putWebhook(station, "legacy", { url: URL_A });
    // The row as an older version stored it: the secrets in plain text.
    await writeEndpointSecrets(station, "legacy", { secret: S2, previous_secret: S1, previous_secret_expires_at: Date.now() + 3_600_000 });
    await produce(station, { messages: [{ body: { legacy: true } }] });
    const call = await waitFor(() => receiver.calls[0], 10_000, "the delivery");
    expect(new Webhook(S2).verify(call.body, headersOf(call))).toMatchObject({ body: { legacy: true } });
    expect(new Webhook(S1).verify(call.body, headersOf(call))).toMatchObject({ body: { legacy: true } });
    const row = await waitFor(async () => {
      const stored = await storedEndpoint(station, "legacy");
      return stored.secret.startsWith("wsk1:") && stored;
    }, 10_000, "the row sealed");
    expectNoPlainSecret(row, [S1, S2]);
    expect((await getWebhook(station, "legacy")).previousSecretsExpireAt).toHaveLength(1);
  });

  it("migrates a plain-text row on a PUT too", async () => {
    const station = await createStation();
    await putWebhook(station, "legacy-put", { url: URL_A });
    await writeEndpointSecrets(station, "legacy-put", { secret: S1, previous_secret: null, previous_secret_expires_at: null });
    expect((await putWebhook(station, "legacy-put", { url: URL_A, timeoutMs: 2000 })).status).toBe(200);
    expectNoPlainSecret(await storedEndpoint(station, "legacy-put"), [S1]);
    await produce(station, { messages: [{ body: 2 }] });
    const call = await waitFor(() => receiver.calls[0], 10_000, "the delivery");
    expect(new Webhook(S1).verify(call.body, headersOf(call))).toMatchObject({ body: 2 });
  });

  it("keeps working across a key rotation: a row under WEBHOOK_SECRET_KEY_PREVIOUS signs and is re-sealed under the new key", async () => {
    const station = await createStation();
    await putWebhook(station, "rekey", { url: URL_A });
    const previousRing = (await loadKeyRing({ WEBHOOK_SECRET_KEY: env.WEBHOOK_SECRET_KEY_PREVIOUS }))!;
    const currentRing = (await loadKeyRing(env))!;
    await writeEndpointSecrets(station, "rekey", await sealEndpointSecrets(previousRing, "rekey", { current: S3, previous: [] }, Date.now()));
    expect((await storedEndpoint(station, "rekey")).secret).toContain(`:${previousRing.current.id}:`);
    await produce(station, { messages: [{ body: 3 }] });
    const call = await waitFor(() => receiver.calls[0], 10_000, "the delivery");
    expect(new Webhook(S3).verify(call.body, headersOf(call))).toMatchObject({ body: 3 });
    await waitFor(async () => (await storedEndpoint(station, "rekey")).secret.includes(`:${currentRing.current.id}:`), 10_000, "re-sealed under the new key");
    await produce(station, { messages: [{ body: 4 }] });
    const next = await waitFor(() => receiver.calls[1], 10_000, "the next delivery");
    expect(new Webhook(S3).verify(next.body, headersOf(next))).toMatchObject({ body: 4 });
  });
});

describe("signing-secret rotation", () => {
  it("keeps the first old secret signing when a second rotation comes within the grace", async () => {
    const station = await createStation();
    await putWebhook(station, "twice", { url: URL_A, secret: S1 });
    await putWebhook(station, "twice", { url: URL_A, secret: S2 });
    const second = await putWebhook(station, "twice", { url: URL_A, secret: S3 });
    expect(second.status).toBe(200);
    expect(second.body.previousSecretsExpireAt).toHaveLength(2);
    expect(second.body.previousSecretExpiresAt).toBe(Math.max(...second.body.previousSecretsExpireAt));
    await produce(station, { messages: [{ body: "rotated" }] });
    const call = await waitFor(() => receiver.calls[0], 10_000, "the delivery");
    expect(call.headers["webhook-signature"]!.split(" ")).toHaveLength(3);
    for (const secret of [S3, S2, S1]) expect(new Webhook(secret).verify(call.body, headersOf(call))).toMatchObject({ body: "rotated" });
  });

  it("refuses a rotation beyond three old secrets in grace with 409 secret_rotation_limit, keeping what signs", async () => {
    const station = await createStation();
    await putWebhook(station, "many", { url: URL_A, secret: S1 });
    for (const secret of [S2, S3, S4]) expect((await putWebhook(station, "many", { url: URL_A, secret })).status).toBe(200);
    const refused = await putWebhook(station, "many", { url: URL_A, secret: S5 });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "secret_rotation_limit", max: 3, retryAt: expect.any(Number) });
    await produce(station, { messages: [{ body: "four" }] });
    const call = await waitFor(() => receiver.calls[0], 10_000, "the delivery");
    for (const secret of [S4, S3, S2, S1]) expect(new Webhook(secret).verify(call.body, headersOf(call))).toMatchObject({ body: "four" });
    expect(() => new Webhook(S5).verify(call.body, headersOf(call))).toThrow();
    // rotationGraceMs 0 is the emergency rotation: the new secret alone signs from now on.
    const emergency = await putWebhook(station, "many", { url: URL_A, secret: S5, rotationGraceMs: 0 });
    expect(emergency.status).toBe(200);
    expect(emergency.body).toMatchObject({ previousSecretExpiresAt: null, previousSecretsExpireAt: [] });
  });
});
