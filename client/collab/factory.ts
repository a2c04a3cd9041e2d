// The hook between the core SDK and the doc module: importing client/doc.ts registers its
// factory under a global symbol, so `client.doc()` works without the core bundle holding yjs
// (and across two separately built bundles). Types only otherwise: no yjs is imported here.
import type { ClientCore } from "../client-core";
import type { DocOptions, WaystationDoc } from "./doc";

export type DocFactory = (client: ClientCore, station: string, options: DocOptions, onClose: () => void) => WaystationDoc;

export const DOC_FACTORY: unique symbol = Symbol.for("waystation.doc") as never;

export function registerDocFactory(factory: DocFactory): void {
  (globalThis as Record<symbol, unknown>)[DOC_FACTORY] = factory;
}

export function docFactory(): DocFactory | undefined {
  return (globalThis as Record<symbol, unknown>)[DOC_FACTORY] as DocFactory | undefined;
}
