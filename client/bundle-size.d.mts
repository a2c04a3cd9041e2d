// Types of bundle-size.mjs (plain JavaScript so it runs with node alone), for the tarball test.
export declare const APPS: Record<"producer" | "consumer" | "doc" | "server", string>;
export declare const GOALS: Record<"producer" | "consumer", number>;
export interface AppSize {
  initialGzip: number;
  initialMin: number;
  lazyGzip: number;
  lazyChunks: Array<{ inputs: string[]; gzip: number }>;
  /** Inputs of what loads with the page, largest first: [file, minified bytes]. */
  inputs: Array<[string, number]>;
}
export declare function measureApp(source: string, options?: { resolveDir?: string; alias?: Record<string, string> }): Promise<AppSize>;
