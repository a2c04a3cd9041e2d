// An endpoint's health in one badge: disabled (and why), failing (for how many attempts), or healthy.
import type { WebhookInfo } from "../../../shared/webhooks";
import { h } from "../dom";
import { badge } from "../ui";

export function webhookHealth(w: WebhookInfo): HTMLElement {
  if (!w.enabled) return badge(`disabled${w.disabledReason ? ` · ${w.disabledReason.replace(/_/g, " ")}` : ""}`, "bad");
  if (w.health.consecutiveFailures > 0) {
    return h("span", { class: "health" }, badge(`failing · ${w.health.consecutiveFailures} in a row`, "bad"));
  }
  if (w.health.lastAttemptAt === null) return badge("waiting for messages", "neutral");
  if (w.health.lastSuccessAt === null) return badge("no success yet", "warn");
  return badge("healthy", "ok");
}
