// Create or edit a webhook endpoint. Checked with the contract's own schema before the PUT;
// the API's refusal shown as it comes. A generated secret is shown once, right after.
import { PutWebhookRequestSchema, type PutWebhookResponse, type WebhookInfo } from "../../../shared/webhooks";
import { validate } from "../../../shared/validate";
import { ApiFailure, call, stationPath } from "../api";
import { h, replaceChildren } from "../dom";
import { type Field, checkField, rawNumber, selectField, setPath, showIssues, textAreaField, textField } from "../form";
import { renderError, toast } from "../ui";
import { type View, stationHref } from "../view";
import type { StationContext } from "./station-context";
import { optionsOf } from "./webhooks";

export function createWebhookFormView(ctx: StationContext, name: string | null): View {
  const creating = name === null;
  const errorSlot = h("div", { class: "slot" });
  const formSlot = h("div", {}, h("div", { class: "loading" }, "Loading endpoint…"));
  const el = h(
    "div",
    { class: "tab-body" },
    h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, creating ? "New webhook endpoint" : `Edit endpoint ${name}`)), h("div", { class: "panel-body" }, errorSlot, formSlot)),
  );
  let loaded = false;
  return {
    el,
    async refresh() {
      if (loaded) return;
      loaded = true;
      let current: WebhookInfo | null = null;
      if (!creating) {
        try {
          current = await call<WebhookInfo>("GET", stationPath(ctx.station, "webhooks", name));
        } catch (error) {
          replaceChildren(formSlot, renderError(error));
          return;
        }
      }
      replaceChildren(formSlot, buildForm(ctx, current, errorSlot));
    },
  };
}

function buildForm(ctx: StationContext, current: WebhookInfo | null, errorSlot: HTMLElement): HTMLElement {
  const creating = current === null;
  const base = current ? optionsOf(current) : {};
  const nameField = textField("name", "Name", { placeholder: "billing", hint: "Lowercase letters, digits, . _ -; up to 128." });
  const url = textField("url", "URL", { value: current?.url ?? "", placeholder: "https://example.com/hooks/waystation", type: "url" });
  const secret = textField("secret", "Secret", { placeholder: creating ? "generated if left empty" : "kept if left empty", hint: "whsec_ + base64 of 24–64 bytes. Setting a new one rotates it." });
  const mode = selectField("ordered", "Delivery", [["ordered", "Ordered — one in flight, in offset order"], ["concurrent", "Concurrent — several in flight"]], current && !current.ordered ? "concurrent" : "ordered");
  const maxInFlight = textField("maxInFlight", "Max in flight", { value: current && !current.ordered ? String(current.maxInFlight) : "", numeric: true, hint: "Concurrent mode only (default 6)." });
  const timeoutMs = textField("timeoutMs", "Timeout (ms)", { value: current ? String(current.timeoutMs) : "", numeric: true, placeholder: "15000", hint: "A 2xx within this time is a success." });
  const schedule = textField("retry.scheduleMs", "Retry schedule (ms)", {
    value: current ? current.retry.scheduleMs.join(", ") : "",
    placeholder: "default: 1 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h",
    hint: "Delays before each retry, comma-separated. Empty: the default.",
  });
  const disableAfter = textField("disableAfterMs", "Disable after (ms)", { value: current ? String(current.disableAfterMs) : "", numeric: true, placeholder: "5 days", hint: "Failing without a success this long disables the endpoint." });
  const filter = textAreaField("filter", "Filter (JSON)", current?.filter ? JSON.stringify(current.filter, null, 2) : "", 'Only messages whose headers match, e.g. {"headers": {"type": ["order", "refund"]}}. Empty: every message.', 4);
  const start = textField("start", "Start at", { placeholder: "latest", hint: "latest (new messages only), earliest, or an offset. Used at creation." });
  const enabled = checkField("enabled", "Enabled", current ? current.enabled : true);
  const fields: Field[] = [nameField, url, secret, mode, maxInFlight, timeoutMs, schedule, disableAfter, filter, start, enabled];

  const submit = h("button", { type: "submit", class: "btn primary", id: "save-webhook" }, creating ? "Create endpoint" : "Save endpoint");
  const secretSlot = h("div", { class: "slot" });
  const form = h(
    "form",
    { class: "form", novalidate: true, id: "webhook-form" },
    h(
      "div",
      { class: "form-grid" },
      creating ? nameField.el : null,
      url.el,
      secret.el,
      mode.el,
      maxInFlight.el,
      timeoutMs.el,
      schedule.el,
      disableAfter.el,
      creating ? start.el : null,
      enabled.el,
      filter.el,
    ),
    secretSlot,
    h("div", { class: "actions" }, h("a", { class: "btn ghost", href: stationHref(ctx.station, "webhooks") }, "Cancel"), submit),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorSlot.replaceChildren();
    showIssues(fields, []);
    const endpoint = creating ? nameField.input.value.trim() : current.name;
    const body: Record<string, unknown> = structuredClone(base);
    setPath(body, "url", url.input.value.trim());
    setPath(body, "secret", secret.input.value.trim() || undefined);
    const concurrent = mode.input.value === "concurrent";
    setPath(body, "ordered", !concurrent);
    setPath(body, "maxInFlight", concurrent ? rawNumber(maxInFlight.input.value) : undefined);
    setPath(body, "timeoutMs", rawNumber(timeoutMs.input.value));
    setPath(body, "disableAfterMs", rawNumber(disableAfter.input.value));
    const scheduleText = schedule.input.value.trim();
    setPath(body, "retry", scheduleText === "" ? undefined : { scheduleMs: scheduleText.split(/[\s,]+/).filter(Boolean).map((t) => rawNumber(t) ?? t) });
    const filterText = filter.input.value.trim();
    if (filterText === "") setPath(body, "filter", null);
    else {
      try {
        setPath(body, "filter", JSON.parse(filterText));
      } catch {
        return fail(new ApiFailure(0, "invalid_json", "The filter is not valid JSON", [{ path: "filter", message: "Not valid JSON" }], { checkedHere: true }));
      }
    }
    if (creating) {
      const startText = start.input.value.trim();
      setPath(body, "start", startText === "" ? undefined : rawNumber(startText) ?? startText);
    }
    setPath(body, "enabled", (enabled.input as HTMLInputElement).checked);
    const checked = validate(PutWebhookRequestSchema, body);
    if (!checked.ok) {
      const { code, message, issues } = checked.error;
      return fail(new ApiFailure(0, code, message, (issues as Array<{ path: string; message: string }>) ?? [], { checkedHere: true }));
    }
    submit.disabled = true;
    try {
      const saved = await call<PutWebhookResponse>("PUT", stationPath(ctx.station, "webhooks", endpoint), body);
      toast(`${creating ? "Created" : "Saved"} endpoint ${saved.name}`);
      if (saved.secret) {
        replaceChildren(
          secretSlot,
          h(
            "div",
            { class: "callout", id: "new-secret" },
            h("strong", {}, "Signing secret — shown this once"),
            h("code", { class: "secret" }, saved.secret),
            h("p", { class: "muted" }, "Keep it with the receiver to verify webhook-signature. It cannot be read back."),
            h("a", { class: "btn small", href: stationHref(ctx.station, "webhooks") }, "Done"),
          ),
        );
        submit.disabled = true;
        return;
      }
      location.hash = stationHref(ctx.station, "webhooks");
    } catch (error) {
      fail(error);
    } finally {
      if (!secretSlot.hasChildNodes()) submit.disabled = false;
    }
  });

  function fail(error: unknown): void {
    replaceChildren(errorSlot, renderError(error));
    if (error instanceof ApiFailure) showIssues(fields, error.code === "invalid_name" ? [{ path: "name", message: error.message }] : error.issues);
  }
  return form;
}
