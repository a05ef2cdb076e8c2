/**
 * Members held until one timer, shared by all of them, ends the window: then `end` runs
 * for each (in the order they joined) and `after` once. The mechanism of the write and
 * read coalescers (one timer for every socket, not one per socket).
 */
export class SharedWindow<T> {
  private readonly members = new Set<T>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly windowMs: number,
    private readonly end: (member: T) => void,
    private readonly after: (() => void) | null = null,
  ) {}

  get size(): number {
    return this.members.size;
  }

  has(member: T): boolean {
    return this.members.has(member);
  }

  /** Adds `member` to the current window (starting one); false when it is in already. */
  add(member: T): boolean {
    if (this.members.has(member)) return false;
    this.members.add(member);
    this.timer ??= setTimeout(() => this.close(), this.windowMs);
    return true;
  }

  /** Takes `member` out without ending it; true when it was in. */
  remove(member: T): boolean {
    const had = this.members.delete(member);
    if (this.members.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    return had;
  }

  private close(): void {
    this.timer = null;
    const batch = [...this.members];
    this.members.clear();
    for (const member of batch) this.end(member);
    this.after?.();
  }
}
