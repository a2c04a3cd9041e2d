// The routing hash of shared/partitions.ts, bundled by esbuild for this Node script, so the bench
// groups keys by partition exactly as the Worker and the SDK do (the hash is written once, there).
import { buildSync } from "esbuild";
import { join } from "node:path";
import { ROOT } from "./wrangler-dev.mjs";

const bundled = buildSync({ entryPoints: [join(ROOT, "shared", "partitions.ts")], bundle: true, format: "esm", platform: "neutral", write: false });

/** `partitionFor(key, producer, partitions)` of shared/partitions.ts. */
export const { partitionFor } = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString("base64")}`);
