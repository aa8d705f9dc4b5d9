interface Waiter<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit. Items added while a flush is in flight wait and go out together in the
 * next one, so under load N concurrent writers cost one round trip instead of N, and an
 * idle system adds no delay (the first item flushes at once). Every caller's promise
 * settles only when the flush that carried its item has, so "awaited" still means "written".
 *
 * Use it within one Durable Object (the scheduler's outcome writes), not across a stateless
 * Worker's requests: there a request waiting on a flush made by another request's I/O has no
 * I/O of its own pending, and workerd cancels it as hung (measured: `npm run bench` lost
 * thousands of acknowledgements that way).
 */
export class Coalescer<T> {
  private pending: Waiter<T>[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly maxItems: number,
  ) {}

  add(item: T, waitUntil?: (p: Promise<unknown>) => void): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.pending.push({ item, resolve, reject }));
    if (!this.running) {
      this.running = this.loop();
      waitUntil?.(this.running);
    }
    return done;
  }

  /** Resolves when nothing is pending or in flight. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0, this.maxItems);
        try {
          await this.flush(group.map((w) => w.item));
          for (const w of group) w.resolve();
        } catch (err) {
          for (const w of group) w.reject(err);
        }
      }
    } finally {
      this.running = null;
    }
  }
}
