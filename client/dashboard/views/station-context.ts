// What a station page hands to its tab views: a leaf, so the views need not import the page.
export interface StationContext {
  station: string;
  /** Ask the poller for a refresh now (after an action changed something). */
  refreshSoon(): void;
}
