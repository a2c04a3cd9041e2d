// The in-memory side of webhook delivery: a pool of at most MAX_STATION_DELIVERIES concurrent
// attempts per station object. Claims (a transaction) → sends (no transaction held) → records
// (another transaction) → claims again. What it knows in memory (which attempts are in flight)
// is only an optimisation: storage leases make every claimed attempt happen at least once.
import { MAX_STATION_DELIVERIES } from "../../../shared/webhooks";
import type { AttemptResult, Claim, InFlightView } from "./queue";

export interface DispatcherPorts {
  /** Claims up to `slots` due attempts (in a transaction). */
  claim(slots: number, inFlight: InFlightView): Claim[];
  send(claim: Claim): Promise<AttemptResult>;
  /** Records an attempt's result (in a transaction); true when it set a later attempt or disabled the endpoint. */
  record(claim: Claim, result: AttemptResult): boolean;
  /** Attempts were claimed: the alarm must come by the end of their leases. */
  claimed(claims: Claim[]): void;
  /** The schedule changed beyond leases (a retry set, the pool went idle): time to set the alarm. */
  settled(): void;
}

export class WebhookDispatcher {
  private readonly inFlight = new Map<number, Set<number>>();
  private active = 0;
  /** Bumped by `reset()`: results of attempts started before it are not recorded. */
  private generation = 0;

  constructor(private readonly ports: DispatcherPorts) {}

  readonly view: InFlightView = {
    count: (endpointId) => this.inFlight.get(endpointId)?.size ?? 0,
    has: (endpointId, offset) => this.inFlight.get(endpointId)?.has(offset) ?? false,
  };

  /** Attempts being sent now. */
  get activeCount(): number {
    return this.active;
  }

  /** Every slot is taken: nothing more starts until an attempt ends (and fills again). */
  get isFull(): boolean {
    return this.active >= MAX_STATION_DELIVERIES;
  }

  /** Starts as many due attempts as there are free slots. Cheap when there is nothing to do. */
  fill(): void {
    const slots = MAX_STATION_DELIVERIES - this.active;
    if (slots <= 0) return;
    const claims = this.ports.claim(slots, this.view);
    for (const claim of claims) this.start(claim);
    if (claims.length > 0) this.ports.claimed(claims);
  }

  /** Forgets everything in flight (the station was deleted). */
  reset(): void {
    this.generation += 1;
    this.inFlight.clear();
    this.active = 0;
  }

  private start(claim: Claim): void {
    const generation = this.generation;
    let offsets = this.inFlight.get(claim.endpointId);
    if (!offsets) this.inFlight.set(claim.endpointId, (offsets = new Set()));
    offsets.add(claim.offset);
    this.active += 1;
    // A delivered attempt changes no time the alarm must keep; anything else may.
    let rescheduled = true;
    void this.ports
      .send(claim)
      .then((result) => {
        if (generation === this.generation) rescheduled = this.ports.record(claim, result);
      })
      .catch((error: unknown) => {
        // A bug: the lease brings the attempt back after its timeout.
        console.error(`webhook ${claim.endpoint}: recording offset ${claim.offset} failed`, error);
      })
      .finally(() => {
        if (generation !== this.generation) return;
        offsets.delete(claim.offset);
        if (offsets.size === 0) this.inFlight.delete(claim.endpointId);
        this.active -= 1;
        try {
          this.fill();
          if (rescheduled || this.active === 0) this.ports.settled();
        } catch (error) {
          console.error("webhook claim failed", error);
        }
      });
  }
}
