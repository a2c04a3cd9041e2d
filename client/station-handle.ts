// A station as the app sees it: enqueue, its pending actions and dead letters, its events, and
// its consumers. State lives in the client and the outbox; a handle is cheap.
import type { ClientCore } from "./client-core";
import { startConsumer } from "./consumer";
import { encodeAction } from "./encode";
import { checkBeforeEnqueue, prefetchSchema } from "./schema-check";
import type { ClientEvents, ConsumeOptions, Consumer, DeadLetter, EnqueueOptions, MessageHandler, PendingAction, Station } from "./types";

export class StationHandle implements Station {
  private readonly consumers = new Set<Consumer>();

  constructor(
    private readonly client: ClientCore,
    readonly name: string,
  ) {
    prefetchSchema(client, name);
  }

  async enqueue(body: unknown, options?: EnqueueOptions): Promise<{ seq: number; partition: number }> {
    const action = encodeAction(body, options);
    // Refuses at once, before anything is queued, a body the station's schema would refuse;
    // stamps one that passed with the schema version it was checked against.
    await checkBeforeEnqueue(this.client, this.name, action);
    const [appended] = await this.client.append(this.name, [action]);
    return { seq: appended!.seq, partition: appended!.partition };
  }

  pending(): Promise<PendingAction[]> {
    return this.client.pending(this.name);
  }

  deadLetters(): Promise<DeadLetter[]> {
    return this.client.deadLetters(this.name);
  }

  on<K extends keyof ClientEvents>(event: K, listener: (event: ClientEvents[K]) => void): () => void {
    return this.client.on(event, (e) => {
      if (event === "status" || (e as { station?: string }).station === this.name) listener(e);
    });
  }

  consume(group: string, handler: MessageHandler, options: ConsumeOptions = {}): Consumer {
    this.client.assertOpen();
    const consumer = startConsumer(this.client.transport, this.client.url, this.name, group, handler, options, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  async stopConsumers(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
  }
}
