import { type Socket, connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import { catalog } from '@conv/conversion';
import {
  type ConverterReplyClass,
  LineSplitter,
  classifyConverterReply,
  formatAddress,
  formatAmount,
  formatConversionRequest,
  parseConversionReply,
} from '@conv/protocol';
import type { Endpoint, ProbeVerdict, UnitPair } from '@conv/registry';

const CLOSE_GRACE_MS = 200;

/**
 * A probe's verdict. `ok: true` means alive: it answered right, or it is `busy` (at its
 * connection limit: alive, answer unchecked). `wrong` carries what it answered, for the log.
 */
export type ProbeResult =
  | { ok: true; verdict?: 'ok' }
  | { ok: true; verdict: 'busy'; reason: string }
  | { ok: false; verdict?: 'failed'; reason: string }
  | { ok: false; verdict: 'wrong'; reason: string; answered: string };

/** Checks one endpoint; resolves (never rejects) with the verdict. */
export type Prober = (endpoint: Endpoint, pair: UnitPair) => Promise<ProbeResult>;

export function verdictOf(result: ProbeResult): ProbeVerdict {
  return result.verdict ?? (result.ok ? 'ok' : 'failed');
}

/** Lines a server may send before its answer (a greeting of any wording, before or after reading). */
const MAX_LINES_BEFORE_ANSWER = 3;
/** "Equal to 12 significant digits": at most half a unit in the 12th digit apart. */
const EXACT_TOLERANCE = 5e-12;
/** Forward then back: two roundings of 15 digits (formatAmount) and the converter's own arithmetic. */
const INVERSE_TOLERANCE = 1e-9;
/** Answers remembered for the stability check; forgotten all at once past this (a cheap bound). */
const MAX_REMEMBERED = 100_000;

type Exchange = { kind: 'reply'; reply: ConverterReplyClass; line: string } | { kind: 'failed'; reason: string };

/**
 * A real conversion exchange with the endpoint, and a check of the answer. Pairs the catalog
 * defines exactly (lengths, masses, volumes, times, data, temperatures) must answer `1 <u1>`
 * with the catalog's value to 12 significant digits: one exchange. Every other pair (banana
 * bridges, money, units the catalog does not know, `--factor` converters of such pairs) is
 * checked by inverse and stability: the first probe asks `1 <u1>` and then `<u2> <u1> <answer>`,
 * which must come back to 1; later probes ask one of the two in turn, `1 <u1>` getting the
 * answer it got before, the inverse of that answer coming back to 1. A connection is the
 * dearest part of a probe (course servers answer one request per connection), so a routine
 * probe costs one, and both directions are still checked every second interval. After a wrong
 * answer the next probe asks both again. Busy (TOO_MANY_CONNECTIONS) is alive. A port now used
 * by some other program, or by a converter of another pair, fails.
 */
export function createConversionProber(options: { timeoutMs: number }): Prober {
  const { timeoutMs } = options;
  /**
   * Per endpoint of a stability-checked pair: its last `1 <u1>` answer, and what the next probe
   * asks (`both` directions again after a wrong answer, as on the first probe).
   */
  const remembered = new Map<string, { answer: number; next: 'forward' | 'inverse' | 'both' }>();
  // The catalog never changes: what it says of a pair is looked up once, not once per probe
  // (a pair it does not know costs a thrown error, about 10 us, for each of thousands of probes).
  const exact = new Map<string, number | undefined>();
  const exactOf = (pair: UnitPair): number | undefined => {
    const key = `${pair[0]} ${pair[1]}`;
    if (exact.has(key)) return exact.get(key);
    if (exact.size >= MAX_REMEMBERED) exact.clear();
    const value = exactValue(pair);
    exact.set(key, value);
    return value;
  };
  return async (endpoint, pair) => {
    const asked = `${pair[0]} ${pair[1]} 1`;
    const key = `${formatAddress(endpoint)} ${pair[0]} ${pair[1]}`;
    const known = exactOf(pair) === undefined ? remembered.get(key) : undefined;
    if (known?.next === 'inverse') {
      const inverse = await exchange(endpoint, formatConversionRequest({ from: pair[1], to: pair[0], amount: known.answer }), timeoutMs);
      const back = judged(inverse);
      if (back.result) return back.result;
      if (!agrees(back.amount, 1, INVERSE_TOLERANCE)) {
        known.next = 'both';
        return wrong(`${pair[1]} ${pair[0]} ${formatAmount(known.answer)} answered ${formatAmount(back.amount)}, not 1 (${asked} answered ${formatAmount(known.answer)})`, back.amount);
      }
      known.next = 'forward';
      return { ok: true };
    }
    const forward = await exchange(endpoint, formatConversionRequest({ from: pair[0], to: pair[1], amount: 1 }), timeoutMs);
    const first = judged(forward);
    if (first.result) return first.result;
    const answer = first.amount;
    const expected = exactOf(pair);
    if (expected !== undefined) {
      if (agrees(answer, expected, EXACT_TOLERANCE)) return { ok: true };
      return wrong(`${asked} answered ${formatAmount(answer)}, the catalog says ${formatAmount(expected)}`, answer);
    }
    if (known !== undefined && !agrees(answer, known.answer, EXACT_TOLERANCE)) {
      const before = known.answer;
      known.answer = answer;
      known.next = 'both';
      return wrong(`${asked} answered ${formatAmount(answer)}, and ${formatAmount(before)} the time before`, answer);
    }
    if (known?.next === 'forward') {
      known.next = 'inverse';
      return { ok: true };
    }
    const inverse = await exchange(endpoint, formatConversionRequest({ from: pair[1], to: pair[0], amount: answer }), timeoutMs);
    const back = judged(inverse);
    if (back.result) return back.result;
    if (!agrees(back.amount, 1, INVERSE_TOLERANCE)) {
      return wrong(`${asked} answered ${formatAmount(answer)}, but ${pair[1]} ${pair[0]} ${formatAmount(answer)} answered ${formatAmount(back.amount)}, not 1`, answer);
    }
    if (known !== undefined) known.next = 'forward';
    else {
      if (remembered.size >= MAX_REMEMBERED) remembered.clear();
      remembered.set(key, { answer, next: 'forward' });
    }
    return { ok: true };
  };
}

/** A probe asked of the probe thread, and its answer. */
export type ProbeRequest = { readonly id: number; readonly endpoint: Endpoint; readonly pair: UnitPair };
export type ProbeResponse = { readonly id: number; readonly result: ProbeResult };

/** A prober that runs in a thread of its own, and the way to stop that thread. */
export type ThreadedProber = { readonly probe: Prober; readonly close: () => Promise<void> };

/**
 * `createConversionProber` in a worker thread. A probe is a connect, an exchange and a close,
 * twice for a pair the catalog does not know: with 10,000 endpoints at the default 500 probes/s,
 * 0.7 s of CPU per 5 s idle, and about 18% of the thread that answers LOOKUP under load (perf).
 * Here it costs that thread one message each way. If the thread cannot start or dies, probes go
 * on in this thread (the same checks), and the probes it held are asked again here: a lost
 * thread never reads as dead servers.
 */
export function createThreadedProber(options: { timeoutMs: number; script: URL; onFallback?: (reason: string) => void }): ThreadedProber {
  const here = createConversionProber({ timeoutMs: options.timeoutMs });
  const pending = new Map<number, { request: ProbeRequest; resolve: (result: ProbeResult) => void }>();
  let nextId = 0;
  let worker: Worker | undefined;
  const fallBack = (reason: string) => {
    if (worker === undefined) return;
    worker = undefined;
    options.onFallback?.(reason);
    for (const { request, resolve } of pending.values()) void here(request.endpoint, request.pair).then(resolve);
    pending.clear();
  };
  try {
    worker = new Worker(options.script, { workerData: { timeoutMs: options.timeoutMs } });
    // Never what keeps the process alive: shutdown stops the probes, then the thread.
    worker.unref();
    worker.on('message', (response: ProbeResponse) => {
      const waiting = pending.get(response.id);
      pending.delete(response.id);
      waiting?.resolve(response.result);
    });
    worker.on('error', (error) => fallBack(error.message));
    worker.on('exit', (code) => fallBack(`the probe thread exited with code ${code}`));
  } catch (error) {
    options.onFallback?.(error instanceof Error ? error.message : String(error));
  }
  return {
    probe: (endpoint, pair) => {
      if (worker === undefined) return here(endpoint, pair);
      const request: ProbeRequest = { id: nextId++, endpoint, pair };
      const running = worker;
      return new Promise<ProbeResult>((resolve) => {
        pending.set(request.id, { request, resolve });
        running.postMessage(request);
      });
    },
    close: async () => {
      const running = worker;
      worker = undefined;
      await running?.terminate();
    },
  };
}

function wrong(reason: string, answered: number): ProbeResult {
  return { ok: false, verdict: 'wrong', reason, answered: formatAmount(answered) };
}

/** A number to check, or the probe's result already (failed, busy). */
function judged(outcome: Exchange): { result: ProbeResult; amount?: undefined } | { result?: undefined; amount: number } {
  if (outcome.kind === 'failed') return { result: { ok: false, reason: outcome.reason } };
  const { reply, line } = outcome;
  switch (reply.kind) {
    case 'amount':
      return { amount: reply.amount };
    case 'busy':
      return { result: { ok: true, verdict: 'busy', reason: `answered ${reply.failure.code}` } };
    case 'refused':
    case 'not-serving':
      return { result: { ok: false, reason: `answered ${JSON.stringify(line.slice(0, 60))}` } };
  }
}

function agrees(actual: number, expected: number, tolerance: number): boolean {
  if (expected === 0) return Math.abs(actual) <= tolerance;
  return Math.abs(actual - expected) <= tolerance * Math.abs(expected);
}

/**
 * The catalog's value of `1 <u1>` in `<u2>` when the pair rests on definitions alone: both units
 * known, of one kind (no banana bridge), and not money (an exchange rate is a fact, not a definition).
 */
function exactValue(pair: UnitPair): number | undefined {
  try {
    const exact = catalog.exact(pair[0], pair[1]);
    if (exact.kinds.length !== 1 || exact.kinds[0] === 'money') return undefined;
    return catalog.convert(1, pair[0], pair[1]);
  } catch {
    return undefined;
  }
}

/**
 * One request on its own connection: send at once (no greeting awaited: some course servers
 * send none), skip lines that are no answer (a greeting, before or after reading), classify
 * the first answer. Waits for the server to close first, so TIME_WAIT stays on its side.
 */
function exchange(endpoint: Endpoint, request: string, timeoutMs: number): Promise<Exchange> {
  return new Promise<Exchange>((resolve) => {
    let verdict: Exchange | undefined;
    let skipped = 0;
    let socket: Socket;
    const splitter = new LineSplitter({ maxLineBytes: 1024 });
    const finish = (result: Exchange) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(verdict ?? result);
    };
    let timer = setTimeout(() => finish({ kind: 'failed', reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    try {
      socket = connect({ host: endpoint.host, port: endpoint.port });
    } catch (error) {
      clearTimeout(timer);
      resolve({ kind: 'failed', reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    socket.setNoDelay(true);
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'failed', reason: error.code ?? error.message }));
    socket.on('close', () => finish({ kind: 'failed', reason: 'closed before answering' }));
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      if (verdict !== undefined) return;
      for (const framed of splitter.push(chunk)) {
        if (!framed.ok) {
          verdict = { kind: 'failed', reason: framed.failure.message };
          finish(verdict);
          return;
        }
        // A greeting of any wording is no answer: skip a few lines that are neither number nor FAILURE.
        if (!parseConversionReply(framed.line).ok && ++skipped <= MAX_LINES_BEFORE_ANSWER) continue;
        const reply = classifyConverterReply(framed.line);
        verdict = { kind: 'reply', reply, line: framed.line };
        // Give the server a moment to close first (course servers do, right after answering).
        clearTimeout(timer);
        timer = setTimeout(() => finish(verdict ?? { kind: 'failed', reason: 'no answer' }), CLOSE_GRACE_MS);
        return;
      }
    });
  });
}
