// The sign-in screen: a token (admin, or a scoped token with `manage`), checked against the
// API before it is kept in sessionStorage.
import { ApiFailure, call } from "../api";
import { h } from "../dom";
import { saveToken } from "../session";
import { renderError } from "../ui";

export function renderSignIn(note: string | undefined, onSignedIn: () => void): HTMLElement {
  const input = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Admin token or a token with manage scope",
    required: true,
  });
  const errorSlot = h("div", { class: "slot" });
  const submit = h("button", { type: "submit", class: "btn primary wide" }, "Sign in");
  const form = h(
    "form",
    { class: "signin-card", novalidate: true },
    h("div", { class: "signin-brand" }, h("span", { class: "logo large", "aria-hidden": "true" }), h("h1", {}, "Waystation")),
    h("p", { class: "muted" }, "Operator dashboard. Sign in with a token; it stays in this tab only."),
    note ? h("p", { class: "note" }, note) : null,
    h("label", { for: "token" }, "Token"),
    input,
    errorSlot,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    errorSlot.replaceChildren();
    if (!token) {
      errorSlot.append(renderError(new ApiFailure(0, "unauthorized", "Enter a token")));
      return;
    }
    submit.disabled = true;
    try {
      await call("GET", "/v1/stations", undefined, token);
      saveToken(token);
      onSignedIn();
    } catch (error) {
      errorSlot.append(renderError(error));
    } finally {
      submit.disabled = false;
    }
  });
  queueMicrotask(() => input.focus());
  return h("div", { class: "signin" }, form);
}
