// The webhook SSRF guard: what a deployed worker refuses, and what WEBHOOK_ALLOW_PRIVATE=1 lets through.
import { describe, expect, it } from "vitest";
import { checkWebhookUrl } from "../../worker/station/webhook-url";

const deployed = (url: string) => checkWebhookUrl(url, false);
const local = (url: string) => checkWebhookUrl(url, true);

describe("webhook URL guard", () => {
  it("accepts https:// URLs to public hosts when deployed", () => {
    expect(deployed("https://example.com/hooks?x=1")).toEqual({ ok: true, url: "https://example.com/hooks?x=1" });
    expect(deployed("https://8.8.8.8/h").ok).toBe(true);
    expect(deployed("https://[2606:4700::1111]/h").ok).toBe(true);
  });

  it("refuses http:// when deployed and allows it locally", () => {
    expect(deployed("http://example.com/")).toMatchObject({ ok: false, reason: "scheme" });
    expect(local("http://127.0.0.1:9999/hook").ok).toBe(true);
  });

  it("refuses other schemes even locally", () => {
    for (const url of ["ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "data:text/plain,x"]) {
      expect(local(url)).toMatchObject({ ok: false });
    }
  });

  it("refuses malformed URLs, credentials and fragments", () => {
    expect(deployed("not a url")).toMatchObject({ ok: false, reason: "malformed" });
    expect(deployed("/relative")).toMatchObject({ ok: false, reason: "malformed" });
    expect(deployed("https://user:pw@example.com/")).toMatchObject({ ok: false, reason: "credentials" });
    expect(deployed("https://example.com/#x")).toMatchObject({ ok: false, reason: "fragment" });
  });

  it("refuses localhost and private, loopback, link-local and reserved IP literals when deployed", () => {
    const refused = [
      "https://localhost/",
      "https://LOCALHOST./",
      "https://api.localhost/",
      "https://127.0.0.1/",
      "https://127.1/",
      "https://2130706433/",
      "https://0x7f000001/",
      "https://0.0.0.0/",
      "https://10.1.2.3/",
      "https://172.16.0.1/",
      "https://172.31.255.255/",
      "https://192.168.1.1/",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/",
      "https://198.18.0.1/",
      "https://224.0.0.1/",
      "https://255.255.255.255/",
      "https://[::1]/",
      "https://[::]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:10.0.0.1]/",
      "https://[64:ff9b::a9fe:a9fe]/",
      "https://[fd00::1]/",
      "https://[fe80::1]/",
      "https://[ff02::1]/",
      "https://[2001:db8::1]/",
      "https://[2002:7f00:1::]/",
    ];
    for (const url of refused) {
      const check = deployed(url);
      expect(check.ok, url).toBe(false);
    }
    expect(deployed("https://172.32.0.1/").ok).toBe(true);
    expect(deployed("https://[::ffff:8.8.8.8]/").ok).toBe(true);
  });

  it("lets loopback and private hosts through with WEBHOOK_ALLOW_PRIVATE=1", () => {
    expect(local("http://localhost:3000/").ok).toBe(true);
    expect(local("https://10.0.0.1/").ok).toBe(true);
  });
});
