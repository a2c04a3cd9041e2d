// The operator dashboard: sign-in, the header with its live badge, hash routing to the views,
// and the poller that keeps the current view's figures fresh. Served at /dashboard/.
import { ApiFailure, setUnauthorizedHandler } from "./api";
import { h, replaceChildren } from "./dom";
import { formatTime } from "./format";
import { Poller } from "./poller";
import { forgetToken, readToken } from "./session";
import { toFailure } from "./ui";
import { type Route, type View, parseRoute } from "./view";
import { renderSignIn } from "./views/sign-in";
import { createStationView } from "./views/station";
import { createStationFormView } from "./views/station-form";
import { createStationsView } from "./views/stations";

const root = document.getElementById("app")!;
const liveBadge = h("span", { class: "live", id: "live" }, "");
const main = h("main", { id: "main" });
let current: View | null = null;
const poller = new Poller(
  async () => {
    await current?.refresh();
  },
  (outcome) => {
    if (outcome.ok) {
      liveBadge.className = "live ok";
      liveBadge.textContent = `Live · ${formatTime(outcome.at).slice(11)}`;
    } else {
      const failure = toFailure(outcome.error);
      liveBadge.className = "live bad";
      liveBadge.textContent = failure.code === "network_error" ? "Offline · retrying" : `Error · ${failure.code}`;
    }
  },
);

setUnauthorizedHandler((failure: ApiFailure) => signOut(failure.code === "unauthorized" ? "The token was refused: sign in again." : failure.message));

function signOut(note?: string): void {
  forgetToken();
  poller.stop();
  current?.dispose?.();
  current = null;
  replaceChildren(root, renderSignIn(note, () => boot()));
}

function shell(): HTMLElement {
  return h(
    "div",
    { class: "shell" },
    h(
      "header",
      { class: "topbar" },
      h("a", { class: "brand", href: "#/" }, h("span", { class: "logo", "aria-hidden": "true" }), "Waystation"),
      h("nav", {}, h("a", { href: "#/" }, "Stations")),
      h("div", { class: "spacer" }),
      liveBadge,
      h("button", { type: "button", class: "btn ghost small", id: "sign-out", onclick: () => signOut("Signed out.") }, "Sign out"),
    ),
    main,
  );
}

function viewFor(route: Route): View {
  switch (route.name) {
    case "stations":
      return createStationsView();
    case "new-station":
      return createStationFormView(null);
    case "station":
      return createStationView(route, () => poller.now());
  }
}

async function show(): Promise<void> {
  current?.dispose?.();
  const view = viewFor(parseRoute(location.hash));
  current = view;
  replaceChildren(main, view.el);
  window.scrollTo(0, 0);
  poller.start();
}

function boot(): void {
  if (!readToken()) {
    replaceChildren(root, renderSignIn(undefined, () => boot()));
    return;
  }
  replaceChildren(root, shell());
  void show();
}

window.addEventListener("hashchange", () => {
  if (readToken()) void show();
});
boot();
