// Create a station or edit its config: the main settings as fields, or the whole body as
// JSON. Checked with the contract's own schema (the API's exact messages) before the PUT, and
// the API's refusal shown as it comes (code, message, issue paths). Unknown fields are kept.
import { StationConfigSchema } from "../../../shared/config";
import type { StationInfo } from "../../../shared/stations";
import { validate } from "../../../shared/validate";
import { ApiFailure, call, stationPath } from "../api";
import { h, replaceChildren } from "../dom";
import { type Field, checkField, getPath, rawNumber, selectField, setPath, showIssues, textAreaField, textField } from "../form";
import { formatDuration } from "../format";
import { button, confirmAction, renderError, toast } from "../ui";
import { type View, stationHref } from "../view";

const NUMBER_FIELDS: Array<[path: string, label: string, hint: string]> = [
  ["retention.maxAgeMs", "Max age (ms)", "Messages older than this are trimmed. Empty: kept forever."],
  ["retention.maxMessages", "Max messages", "The oldest go first. Empty: no bound."],
  ["retention.maxBytes", "Max bytes", "Bodies, headers and keys. Empty: no bound."],
  ["maxMessageBytes", "Max message bytes", "Largest encoded body accepted (default 1 MiB)."],
  ["dedupWindowMs", "Dedup window (ms)", "How long ids without seq are remembered (default 2 min)."],
  ["ackTimeoutMs", "Ack timeout (ms)", "Groups' default lease, 100 ms and up (default 30 s)."],
  ["maxDeliveries", "Max deliveries", "Hand-outs before a message goes to the DLS (default 10)."],
];

/** `station` null: create a new one. */
export function createStationFormView(station: string | null): View {
  const creating = station === null;
  const errorSlot = h("div", { class: "slot" });
  const formSlot = h("div", {}, h("div", { class: "loading" }, "Loading config…"));
  const el = creating
    ? h("section", { class: "page narrow" }, h("div", { class: "page-head" }, h("div", {}, h("div", { class: "crumbs" }, h("a", { href: "#/" }, "Stations"), " / "), h("h1", {}, "New station"))), h("div", { class: "panel" }, h("div", { class: "panel-body" }, errorSlot, formSlot)))
    : h("div", { class: "tab-body" }, h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Config")), h("div", { class: "panel-body" }, errorSlot, formSlot)), dangerZone(station));
  let loaded = false;

  return {
    el,
    async refresh() {
      if (loaded) return;
      loaded = true;
      let base: Record<string, unknown> = {};
      if (!creating) {
        try {
          base = (await call<StationInfo>("GET", stationPath(station))).config as unknown as Record<string, unknown>;
        } catch (error) {
          replaceChildren(formSlot, renderError(error));
          return;
        }
      }
      replaceChildren(formSlot, buildForm(station, base, errorSlot));
    },
  };
}

function buildForm(station: string | null, base: Record<string, unknown>, errorSlot: HTMLElement): HTMLElement {
  const creating = station === null;
  const nameField = textField("name", "Name", { placeholder: "orders", hint: "Lowercase letters, digits, . _ -; starts with a letter or digit; up to 128." });
  const kindField = selectField("kind", "Kind", [["log", "log — a plain message log"], ["doc", "doc — a collaborative document (yjs)"]], String(base.kind ?? "log"));
  const numberFields = NUMBER_FIELDS.map(([path, label, hint]) => {
    const current = getPath(base, path);
    return textField(path, label, { value: current === undefined ? "" : String(current), numeric: true, hint: typeof current === "number" && path.endsWith("Ms") ? `${hint} Now ${formatDuration(current)}.` : hint });
  });
  const untilAcked = checkField("retention.untilAcked", "Delete once every group has acked", getPath(base, "retention.untilAcked") === true);
  const archive = checkField(
    "retention.archive",
    "Archive to R2 before retention deletes",
    getPath(base, "retention.archive") === true,
    "Replay still reads archived messages. Needs the ARCHIVE bucket binding; not with “until acked”.",
  );
  const schemaRef = getPath(base, "schema") as { name?: string; version?: unknown } | null | undefined;
  const schemaName = textField("schema.name", "Schema", { value: schemaRef?.name ?? "", placeholder: "none", hint: "A schema registered with PUT /v1/schemas/{name}. Empty: no schema." });
  const schemaVersion = textField("schema.version", "Schema version", { value: schemaRef ? String(schemaRef.version ?? "latest") : "", placeholder: "latest" });
  const onSchemaFailure = checkField("dls.onSchemaFailure", "Schema failures go to the DLS (instead of refusing the batch)", getPath(base, "dls.onSchemaFailure") === true);
  const onMaxDeliveries = checkField("dls.onMaxDeliveries", "Messages out of deliveries go to the DLS", getPath(base, "dls.onMaxDeliveries") !== false);
  const fields: Field[] = [kindField, ...numberFields, untilAcked, archive, schemaName, schemaVersion, onSchemaFailure, onMaxDeliveries];
  const json = textAreaField("", "Config as JSON", "", "The whole PUT body. Fields left out take their defaults.", 18);
  const allFields = creating ? [nameField, ...fields] : fields;

  /** The body the fields describe: the loaded config with the fields laid over it. */
  const fromFields = (): Record<string, unknown> => {
    const body = structuredClone(base);
    setPath(body, "kind", kindField.input.value);
    numberFields.forEach((f) => setPath(body, f.path, rawNumber(f.input.value)));
    setPath(body, "retention.untilAcked", (untilAcked.input as HTMLInputElement).checked);
    setPath(body, "retention.archive", (archive.input as HTMLInputElement).checked);
    const name = schemaName.input.value.trim();
    const version = schemaVersion.input.value.trim();
    setPath(body, "schema", name === "" && version === "" ? null : { name, version: version === "" ? "latest" : (rawNumber(version) ?? version) });
    setPath(body, "dls.onSchemaFailure", (onSchemaFailure.input as HTMLInputElement).checked);
    setPath(body, "dls.onMaxDeliveries", (onMaxDeliveries.input as HTMLInputElement).checked);
    return body;
  };

  let mode: "fields" | "json" = "fields";
  const fieldsBox = h(
    "div",
    { class: "form-grid" },
    creating ? nameField.el : null,
    kindField.el,
    h("h3", { class: "form-section" }, "Retention"),
    ...numberFields.slice(0, 3).map((f) => f.el),
    untilAcked.el,
    archive.el,
    h("h3", { class: "form-section" }, "Limits and delivery"),
    ...numberFields.slice(3).map((f) => f.el),
    h("h3", { class: "form-section" }, "Schema and dead letters"),
    schemaName.el,
    schemaVersion.el,
    onSchemaFailure.el,
    onMaxDeliveries.el,
  );
  const jsonBox = h("div", { class: "json-box", hidden: true }, json.el);
  const toggle = button("Edit as JSON", () => {
    if (mode === "fields") {
      json.input.value = JSON.stringify(fromFields(), null, 2);
      mode = "json";
    } else {
      mode = "fields";
    }
    fieldsBox.hidden = mode === "json";
    jsonBox.hidden = mode === "fields";
    if (creating) nameField.el.hidden = false;
    toggle.textContent = mode === "json" ? "Edit as fields" : "Edit as JSON";
  }, "ghost small", { id: "toggle-json" });

  const submit = h("button", { type: "submit", class: "btn primary", id: "save-station" }, creating ? "Create station" : "Save config");
  const form = h(
    "form",
    { class: "form", novalidate: true, id: "station-form" },
    creating ? h("div", { class: "json-name" }) : null,
    h("div", { class: "form-tools" }, toggle),
    fieldsBox,
    jsonBox,
    h("div", { class: "actions" }, creating ? h("a", { class: "btn ghost", href: "#/" }, "Cancel") : null, submit),
  );
  if (creating) {
    // The name stays visible in both modes: it is the path, not part of the body.
    fieldsBox.removeChild(nameField.el);
    form.querySelector(".json-name")!.append(nameField.el);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorSlot.replaceChildren();
    showIssues(allFields, []);
    const name = creating ? nameField.input.value.trim() : station;
    let body: unknown;
    if (mode === "json") {
      try {
        body = json.input.value.trim() === "" ? {} : JSON.parse(json.input.value);
      } catch {
        return fail(new ApiFailure(0, "invalid_json", "The request body is not valid JSON", [], { checkedHere: true }));
      }
    } else {
      body = fromFields();
    }
    // The contract's own check first: the API would answer with exactly these issues.
    const checked = validate(StationConfigSchema, body);
    if (!checked.ok) {
      const { code, message, issues } = checked.error;
      return fail(new ApiFailure(0, code, message, (issues as Array<{ path: string; message: string }>) ?? [], { checkedHere: true }));
    }
    submit.disabled = true;
    try {
      await call<StationInfo>("PUT", stationPath(name ?? ""), body);
      if (creating) {
        toast(`Created station ${name}`);
        location.hash = stationHref(name!);
      } else {
        toast("Config saved");
        base = (await call<StationInfo>("GET", stationPath(name!))).config as unknown as Record<string, unknown>;
      }
    } catch (error) {
      fail(error);
    } finally {
      submit.disabled = false;
    }
  });

  function fail(error: unknown): void {
    replaceChildren(errorSlot, renderError(error));
    if (error instanceof ApiFailure) {
      const issues = error.code === "invalid_name" ? [{ path: "name", message: error.message }] : error.issues;
      showIssues(allFields, issues);
    }
    errorSlot.scrollIntoView({ block: "nearest" });
  }

  return form;
}

function dangerZone(station: string): HTMLElement {
  const errorSlot = h("div", { class: "slot" });
  return h(
    "div",
    { class: "panel danger-zone" },
    h("div", { class: "panel-head" }, h("h2", {}, "Delete station")),
    h(
      "div",
      { class: "panel-body" },
      h("p", { class: "muted" }, "Deletes the station with every message, group, dead letter and webhook endpoint it holds."),
      errorSlot,
      button(
        "Delete station",
        async () => {
          if (!(await confirmAction(`Delete station ${station}?`, "Everything it holds is deleted for good.", "Delete"))) return;
          try {
            await call("DELETE", stationPath(station));
            toast(`Deleted station ${station}`);
            location.hash = "#/";
          } catch (error) {
            replaceChildren(errorSlot, renderError(error));
          }
        },
        "danger",
        { id: "delete-station" },
      ),
    ),
  );
}
