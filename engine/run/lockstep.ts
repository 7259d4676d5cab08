// The linear strategy's barrier: every live host announces the next step it wants to run
// (a position in the play, as a path of indexes) and waits. When all have announced, the
// hosts at the earliest position run that step together, like Ansible's linear strategy:
// one TASK header, all hosts, then the next task.

export type StepKey = readonly number[];

export function compareKeys(a: StepKey, b: StepKey): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i]! !== b[i]!) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

interface Arrival {
  key: StepKey;
  stepId: string;
  release: (group: string[]) => void;
}

export interface StepGate {
  /** Wait until this host may run the step; resolves with the hosts running it together. */
  arrive(host: string, key: StepKey, stepId: string): Promise<string[]>;
  /** The host has no more steps in this play section. */
  leave(host: string): void;
}

/** free strategy: every host runs at its own pace. */
export class FreeGate implements StepGate {
  async arrive(host: string): Promise<string[]> {
    return [host];
  }
  leave(): void {}
}

export class LinearGate implements StepGate {
  private readonly live: Set<string>;
  private readonly order: Map<string, number>;
  private readonly arrivals = new Map<string, Arrival>();

  constructor(hosts: string[]) {
    this.live = new Set(hosts);
    this.order = new Map(hosts.map((h, i) => [h, i]));
  }

  arrive(host: string, key: StepKey, stepId: string): Promise<string[]> {
    return new Promise((release) => {
      this.arrivals.set(host, { key, stepId, release });
      this.maybeRelease();
    });
  }

  leave(host: string): void {
    this.live.delete(host);
    this.arrivals.delete(host);
    this.maybeRelease();
  }

  private maybeRelease(): void {
    if (this.arrivals.size === 0 || this.arrivals.size < this.live.size) return;
    let first: Arrival | undefined;
    for (const arrival of this.arrivals.values()) {
      if (!first || compareKeys(arrival.key, first.key) < 0) first = arrival;
    }
    if (!first) return;
    const group = [...this.arrivals.entries()]
      .filter(([, a]) => a.stepId === first!.stepId && compareKeys(a.key, first!.key) === 0)
      .map(([host]) => host)
      .sort((x, y) => (this.order.get(x) ?? 0) - (this.order.get(y) ?? 0));
    const releases = group.map((host) => this.arrivals.get(host)!.release);
    for (const host of group) this.arrivals.delete(host);
    for (const release of releases) release(group);
  }
}
