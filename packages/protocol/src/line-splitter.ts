import { Buffer } from 'node:buffer';
import { type Failure, failure } from './failures';

export const DEFAULT_MAX_LINE_BYTES = 4096;

/** What the splitter yields: a complete line of text, or the reason a line was refused. */
export type FramedLine = { ok: true; line: string } | { ok: false; failure: Failure };

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/** Shared by every splitter: it decodes whole lines only (no streaming state), so one per connection would only cost memory. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Splits a byte stream into UTF-8 lines. Chunks may cut a line, or a multi-byte character,
 * anywhere. A line longer than `maxLineBytes` is reported once and skipped up to its newline
 * without being buffered, so a client cannot grow our memory by never sending `\n`.
 * Blank lines (only spaces and tabs) are dropped; a `\r` before `\n` is dropped.
 */
export class LineSplitter {
  readonly maxLineBytes: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #discarding = false;

  constructor(options: { maxLineBytes?: number } = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Bytes held for an incomplete line: never more than `maxLineBytes + 1`. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Feeds a chunk; returns the lines it completed, in order. */
  push(chunk: Uint8Array): FramedLine[] {
    const out: FramedLine[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline < 0) break;
      this.#complete(chunk, start, newline, out);
      start = newline + 1;
    }
    if (start < chunk.length) this.#hold(chunk.subarray(start), out);
    return out;
  }

  /** Ends the stream: a last line without `\n` still counts, as telnet and `nc -N` send it. */
  end(): FramedLine[] {
    const out: FramedLine[] = [];
    if (this.#pendingBytes > 0 && !this.#discarding) {
      const whole = this.#take(new Uint8Array(0));
      this.#emit(whole, 0, whole.length, out);
    }
    this.#reset();
    return out;
  }

  #hold(tail: Uint8Array, out: FramedLine[]): void {
    if (this.#discarding) return;
    // One byte of slack: the line may still end in `\r\n`, and the `\r` is not content.
    if (this.#pendingBytes + tail.length > this.maxLineBytes + 1) {
      this.#refuseTooLong(out);
      return;
    }
    // Copy: the caller may reuse its buffer after push returns.
    this.#pending.push(tail.slice());
    this.#pendingBytes += tail.length;
  }

  /** The line `chunk[start..end)`, after whatever earlier chunks left pending. */
  #complete(chunk: Uint8Array, start: number, end: number, out: FramedLine[]): void {
    if (this.#discarding) {
      this.#reset();
      return;
    }
    if (this.#pendingBytes + (end - start) > this.maxLineBytes + 1) {
      this.#refuseTooLong(out);
      this.#reset();
      return;
    }
    if (this.#pending.length === 0) {
      this.#emit(chunk, start, end, out);
      return;
    }
    const whole = this.#take(chunk.subarray(start, end));
    this.#emit(whole, 0, whole.length, out);
  }

  #emit(bytes: Uint8Array, start: number, end: number, out: FramedLine[]): void {
    if (end > start && bytes[end - 1] === CARRIAGE_RETURN) end--;
    if (end - start > this.maxLineBytes) {
      out.push({ ok: false, failure: tooLong(this.maxLineBytes) });
      return;
    }
    // Nearly every line is ASCII: it needs no UTF-8 check, and a Buffer decodes it in place.
    let ascii = true;
    let blank = true;
    for (let i = start; i < end; i++) {
      const byte = bytes[i] as number;
      if (byte >= 0x80) {
        ascii = false;
        break;
      }
      if (byte !== SPACE && byte !== TAB) blank = false;
    }
    if (ascii) {
      if (!blank) out.push({ ok: true, line: bytes instanceof Buffer ? bytes.toString('latin1', start, end) : UTF8.decode(bytes.subarray(start, end)) });
      return;
    }
    let line: string;
    try {
      line = UTF8.decode(bytes.subarray(start, end));
    } catch {
      out.push({ ok: false, failure: failure('INVALID_UTF8', 'Lines must be UTF-8 text.') });
      return;
    }
    // Never blank: it holds a byte above 0x7f, which no space or tab is.
    out.push({ ok: true, line });
  }

  #take(head: Uint8Array): Uint8Array {
    if (this.#pending.length === 0) return head;
    const whole = new Uint8Array(this.#pendingBytes + head.length);
    let offset = 0;
    for (const part of this.#pending) {
      whole.set(part, offset);
      offset += part.length;
    }
    whole.set(head, offset);
    this.#reset();
    return whole;
  }

  #refuseTooLong(out: FramedLine[]): void {
    out.push({ ok: false, failure: tooLong(this.maxLineBytes) });
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#discarding = true;
  }

  #reset(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#discarding = false;
  }
}

function tooLong(max: number): Failure {
  return failure('LINE_TOO_LONG', `Lines are limited to ${max} bytes.`);
}
