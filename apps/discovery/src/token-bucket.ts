/** `rate` tokens a second, `capacity` at most; `take()` spends one if there is one. */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly rate: number,
    readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
    /** Tokens at the start: none (a budget earns its first), or a full burst (a limit starts open). */
    initial = 0,
  ) {
    this.#tokens = Math.min(capacity, initial);
    this.#at = now();
  }

  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** True when it has refilled to capacity: forgetting it changes nothing. */
  full(): boolean {
    this.#refill();
    return this.#tokens >= this.capacity;
  }

  #refill(): void {
    const now = this.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#at) * this.rate) / 1000);
    this.#at = now;
  }
}
