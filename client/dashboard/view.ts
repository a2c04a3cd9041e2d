// What every screen of the dashboard is: an element, a refresh the live poller calls, and a
// dispose for when the route changes.

export interface View {
  el: HTMLElement;
  /** Called once on mount and then on every poll while the page is visible (forms load once,
   *  then ignore the calls, so polling never overwrites what is being typed). */
  refresh(): Promise<void>;
  dispose?(): void;
}

export type Route =
  | { name: "stations" }
  | { name: "new-station" }
  | { name: "station"; station: string; tab: StationTab; rest: string[]; params: URLSearchParams };

export const STATION_TABS = ["overview", "messages", "dls", "webhooks", "config"] as const;
export type StationTab = (typeof STATION_TABS)[number];

/** `#/`, `#/new`, `#/s/{station}[/{tab}[/…]][?query]`; anything else is the stations list. */
export function parseRoute(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#/, "").split("?", 2);
  const parts = path.split("/").filter(Boolean).map(safeDecode);
  if (parts[0] === "new") return { name: "new-station" };
  if (parts[0] === "s" && parts[1]) {
    const tab = (STATION_TABS as readonly string[]).includes(parts[2] ?? "") ? (parts[2] as StationTab) : "overview";
    return { name: "station", station: parts[1], tab, rest: parts.slice(3), params: new URLSearchParams(query) };
  }
  return { name: "stations" };
}

export function stationHref(station: string, tab: StationTab = "overview", ...rest: string[]): string {
  const parts = ["#/s", encodeURIComponent(station)];
  if (tab !== "overview" || rest.length > 0) parts.push(tab);
  parts.push(...rest.map(encodeURIComponent));
  return parts.join("/");
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
