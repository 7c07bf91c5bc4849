// Parks known to this process: key → end time, with key '' parking the whole limiter.

/** Park ends per key (`''` = the whole limiter). Expired entries are dropped as they are read. */
export class ParkTable {
  private readonly ends = new Map<string, number>();

  /** Whether any park was ever recorded and not yet swept (a cheap guard for the hot path). */
  get any(): boolean {
    return this.ends.size > 0;
  }

  /** Records a park; parks only extend. Returns the end in force. */
  set(key: string, until: number): number {
    const end = Math.max(this.ends.get(key) ?? 0, until);
    this.ends.set(key, end);
    return end;
  }

  /** The end of the park in force for `key` at `now` (its own or the whole limiter's), or 0. */
  until(key: string, now: number): number {
    const own = this.read(key, now);
    return key === '' ? own : Math.max(own, this.read('', now));
  }

  /** Number of keys parked at `now`. */
  count(now: number): number {
    let n = 0;
    for (const k of [...this.ends.keys()]) if (this.read(k, now) > 0) n++;
    return n;
  }

  private read(key: string, now: number): number {
    const end = this.ends.get(key);
    if (end === undefined) return 0;
    if (end <= now) {
      this.ends.delete(key);
      return 0;
    }
    return end;
  }
}
