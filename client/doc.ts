// The doc entry of the SDK: collaborative yjs documents through doc stations. Import it once
// (it brings yjs, which the core SDK bundle leaves out); then `client.doc(station)` works.
// Exports the one yjs copy it uses as `Y`, so an app never mixes two copies of yjs.
import * as Y from "yjs";
import type { Client } from "./index";
import { WaystationDoc, type DocOptions } from "./collab/doc";
import { registerDocFactory } from "./collab/factory";

export { Y, WaystationDoc };
export type { DocError, DocOptions, DocStatus } from "./collab/doc";
export type { AwarenessChange, DocAwareness } from "./collab/awareness";
export type { AwarenessState } from "../shared/doc-socket";

registerDocFactory((client, station, options, onClose) => new WaystationDoc(client, station, options, onClose));

/**
 * The same as `client.doc(station, options)`: a Y.Doc bound to a doc station (create it with
 * `PUT /v1/stations/{station}` and `{"kind": "doc"}`). One per client and station until closed.
 *
 * @example
 * import { createClient } from "waystation";
 * import { openDoc } from "waystation/doc";
 * const doc = openDoc(createClient({ url, token }), "notes");
 * await doc.whenLoaded; // local state from IndexedDB: works offline
 * doc.getText("body").insert(0, "hello");
 */
export function openDoc(client: Client, station: string, options?: DocOptions): WaystationDoc {
  return client.doc(station, options);
}
