// station.consume() without the consumer's code: the loop (client/consumer-loop.ts) is a chunk
// of its own, imported on the first consume(), so an app that only enqueues never ships it.
// Returns the Consumer at once; a stop() before the chunk arrived stops it as soon as it runs.
import { WaystationError } from "./errors";
import type { ConsumeOptions, Consumer, MessageHandler } from "./types";
import type { Transport } from "./transport";

export function startConsumer(
  transport: Transport,
  url: string,
  station: string,
  group: string,
  handler: MessageHandler,
  options: ConsumeOptions,
  onStop: () => void,
): Consumer {
  let running: Consumer | undefined;
  let stopped = false;
  const guess: Consumer["transport"] = options.transport !== "poll" && typeof WebSocket === "function" ? "websocket" : "poll";
  const started = import("./consumer-loop").then(
    ({ runConsumer }) => {
      if (stopped) return onStop();
      running = runConsumer(transport, url, station, group, handler, options, onStop);
    },
    (error: unknown) => {
      // The chunk did not load (offline before it was ever cached): nothing runs; say so.
      options.onError?.(new WaystationError("network_error", `The consumer's code did not load: ${(error as Error)?.message ?? error}`));
      onStop();
    },
  );
  return {
    get transport() {
      return running?.transport ?? guess;
    },
    async stop() {
      stopped = true;
      await started;
      await running?.stop();
    },
  };
}
