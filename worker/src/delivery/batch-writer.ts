interface Pending {
  statements: D1PreparedStatement[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces the D1 writes of concurrent attempts: while one batch is in flight the next
 * ones queue up and go together, so a busy destination costs one D1 round trip per
 * group of attempts rather than one per attempt. Each batch is atomic.
 */
export class BatchWriter {
  private pending: Pending[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly d1: D1Database, private readonly maxStatements = 200) {}

  write(statements: D1PreparedStatement[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ statements, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group: Pending[] = [];
        let count = 0;
        while (this.pending.length > 0 && (group.length === 0 || count + this.pending[0]!.statements.length <= this.maxStatements)) {
          const next = this.pending.shift()!;
          group.push(next);
          count += next.statements.length;
        }
        try {
          await this.d1.batch(group.flatMap((p) => p.statements));
          for (const p of group) p.resolve();
        } catch (err) {
          for (const p of group) p.reject(err);
        }
      }
    } finally {
      this.flushing = null;
    }
  }
}
