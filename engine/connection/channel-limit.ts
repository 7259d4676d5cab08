// A semaphore for the session channels of one ssh connection. OpenSSH refuses a channel past
// MaxSessions (default 10) with "open failed", and ssh2 does not queue, so every exec takes a
// slot here first. The limit adapts: when the server refuses anyway (it was configured
// lower), the limit drops to the number of channels the server had open at that moment, and
// the refused operation waits for a slot and tries again.
//
// Counting what the server had open: it answers channel requests in order, so when request k
// is refused, every earlier request still holding a slot was accepted (had it been refused,
// that answer would have come first), even if ssh2 has not reported it yet (it reports a
// channel only after the exec request is answered too).

export interface ChannelSlot {
  /** The server accepted the channel (ssh2 handed it over). */
  opened(): void;
  /**
   * The server refused this channel. The slot is released; returns whether the limit was
   * lowered (false: a refusal below the known capacity, i.e. the server was still tearing
   * down a closed session; retry shortly).
   */
  refused(): boolean;
  /** Give the slot back (after the channel closed, or when the open failed). Idempotent. */
  release(): void;
}

export class ChannelLimit {
  private nextSeq = 0;
  /** Sequence numbers of slots held (requested, open, or closing). */
  private readonly live = new Set<number>();
  private readonly waiters: Array<() => void> = [];
  private open = 0;
  /** The most channels the server ever had open at once: a number it certainly allows. */
  private peak = 0;

  constructor(private max: number) {
    if (!(max >= 1)) this.max = 1;
  }

  /** The current limit (lowered after refusals). */
  get limit(): number {
    return this.max;
  }

  /** Slots held right now. */
  get inUse(): number {
    return this.live.size;
  }

  /** Operations waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Wait for a slot. */
  async acquire(): Promise<ChannelSlot> {
    while (this.live.size >= this.max) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.take();
  }

  /**
   * A slot now, only if `keepFree` more would still be free and nobody waits: for channels
   * that are an extra (a pre-opened spare session), which must never make work wait.
   */
  tryAcquire(keepFree = 0): ChannelSlot | undefined {
    if (this.waiters.length > 0 || this.live.size + 1 + keepFree > this.max) return undefined;
    return this.take();
  }

  private take(): ChannelSlot {
    const seq = this.nextSeq++;
    this.live.add(seq);
    let isOpen = false;
    const release = () => {
      if (!this.live.delete(seq)) return;
      if (isOpen) this.open--;
      isOpen = false;
      this.wake();
    };
    return {
      opened: () => {
        if (isOpen || !this.live.has(seq)) return;
        isOpen = true;
        this.open++;
        if (this.open > this.peak) this.peak = this.open;
      },
      refused: () => {
        let ahead = 0;
        for (const s of this.live) if (s < seq) ahead++;
        release();
        const capacity = Math.max(1, ahead, this.peak);
        if (capacity >= this.max) return false;
        this.max = capacity;
        return true;
      },
      release,
    };
  }

  private wake(): void {
    // wake as many as could now fit; each re-checks the limit in its loop
    const free = this.max - this.live.size;
    for (let i = 0; i < free && this.waiters.length > 0; i++) this.waiters.shift()!();
  }
}
