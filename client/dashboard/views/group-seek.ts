// "Replay from…" on the groups view: a small form that moves a consumer group (POST
// …/groups/{group}/seek) to the earliest or latest message, an offset or a time, and says
// where the group now stands. It lives outside the polled table, so a refresh never wipes it.
import type { SeekResponse, SeekTarget } from "../../../shared/groups";
import { seekGroup } from "../api";
import { h, replaceChildren } from "../dom";
import { formatCount, plural } from "../format";
import { button, renderError, toast } from "../ui";

type Mode = "earliest" | "latest" | "offset" | "time";

/** The form for `group`, in `slot`; `onMoved` refreshes the view after a move. */
export function openSeekForm(slot: HTMLElement, station: string, group: string, onMoved: () => void): void {
  const mode = h(
    "select",
    { id: "seek-mode", name: "mode", "aria-label": "Replay from" },
    h("option", { value: "earliest" }, "the earliest message kept"),
    h("option", { value: "latest" }, "now (skip everything stored)"),
    h("option", { value: "offset" }, "an offset"),
    h("option", { value: "time" }, "a time"),
  );
  const offset = h("input", { id: "seek-offset", name: "offset", type: "number", min: 1, step: 1, placeholder: "offset", hidden: true });
  const time = h("input", { id: "seek-time", name: "time", type: "datetime-local", step: 1, hidden: true });
  const result = h("div", { class: "slot", id: "seek-result" });
  mode.addEventListener("change", () => {
    offset.hidden = mode.value !== "offset";
    time.hidden = mode.value !== "time";
  });
  const submit = async (event: Event) => {
    event.preventDefault();
    const target = targetOf(mode.value as Mode, offset.value, time.value);
    if (typeof target === "string" && target.startsWith("!")) {
      replaceChildren(result, h("p", { class: "error-message" }, target.slice(1)));
      return;
    }
    try {
      const moved = await seekGroup(station, group, target as SeekTarget);
      replaceChildren(result, describeMove(moved));
      toast(`Group ${group} moved`);
      onMoved();
    } catch (error) {
      replaceChildren(result, renderError(error));
    }
  };
  const form = h(
    "form",
    { class: "seek-form", "data-seek-group": group, onsubmit: (e: Event) => void submit(e) },
    h("h3", {}, "Replay group ", h("span", { class: "mono" }, group), " from…"),
    h(
      "p",
      { class: "muted" },
      "Messages before the new position count as acked, the rest as never handed out; leases in flight are dropped and their late acks ignored.",
    ),
    h("div", { class: "row" }, mode, offset, time, h("button", { type: "submit", class: "btn primary small", id: "seek-submit" }, "Move group"), button("Close", () => slot.replaceChildren(), "ghost small")),
    result,
  );
  replaceChildren(slot, form);
  mode.focus();
}

/** The wire target; a string starting with "!" is what is wrong with the input. */
function targetOf(mode: Mode, offset: string, time: string): SeekTarget | `!${string}` {
  if (mode === "earliest" || mode === "latest") return mode;
  if (mode === "offset") {
    const n = Number(offset);
    return Number.isSafeInteger(n) && n >= 1 ? { offset: n } : "!Give an offset: a whole number from 1";
  }
  const ms = time ? new Date(time).getTime() : NaN;
  return Number.isFinite(ms) && ms >= 0 ? { time: ms } : "!Pick a date and time";
}

function describeMove(moved: SeekResponse): HTMLElement {
  return h(
    "p",
    { class: "seek-outcome" },
    `Next offset ${formatCount(moved.nextOffset)} · ack floor ${formatCount(moved.ackFloor)} · lag ${formatCount(moved.lag)} · pending ${formatCount(moved.pending)} · `,
    `${plural(moved.dropped, "lease")} dropped`,
  );
}
