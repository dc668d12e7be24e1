import { connect } from 'node:net';
import { convert } from '@conv/conversion';
import { type Endpoint, LineSplitter, formatAmount, parseConversionReply } from '@conv/protocol';
import { type Random, pick, substream } from './random';

export type Question = { readonly from: string; readonly to: string; readonly amount: number };

/** A question over the route's units, either direction, 1 to `units.length - 1` hops; a decimal amount people would type. */
export function drawQuestion(random: Random, units: readonly string[]): Question {
  const from = pick(random, units);
  const to = pick(random, units.filter((unit) => unit !== from));
  // Up to six significant digits, either sign, never zero (a relative error needs a non-zero truth).
  const magnitude = 10 ** Math.floor(random() * 7 - 3);
  const amount = Number(((1 + Math.floor(random() * 99_999)) * magnitude / 10_000).toPrecision(6)) * (random() < 0.2 ? -1 : 1);
  return { from, to, amount };
}

/** Relative error allowed between the proxy's answer and the exact value: 15-digit rounding per hop, chained. */
export const TOLERANCE = 1e-12;

export type Outcome =
  | { readonly kind: 'right'; readonly latencyMs: number }
  | { readonly kind: 'wrong'; readonly latencyMs: number; readonly detail: string }
  | { readonly kind: 'failed'; readonly latencyMs: number; readonly detail: string };

/** Judges one answer line against the exact value from the catalog. */
export function judgeAnswer(question: Question, line: string | undefined): { ok: true } | { ok: false; kind: 'wrong' | 'failed'; detail: string } {
  const asked = `${question.from} ${question.to} ${formatAmount(question.amount)}`;
  if (line === undefined) return { ok: false, kind: 'failed', detail: `${asked}: no answer` };
  const reply = parseConversionReply(line);
  if (!reply.ok) return { ok: false, kind: 'wrong', detail: `${asked}: unreadable answer ${JSON.stringify(line.slice(0, 120))}` };
  if (reply.value.kind === 'failure') return { ok: false, kind: 'failed', detail: `${asked}: ${line.slice(0, 200)}` };
  const exact = convert(question.amount, question.from, question.to);
  const error = Math.abs(reply.value.amount - exact) / Math.abs(exact);
  if (!(error <= TOLERANCE)) return { ok: false, kind: 'wrong', detail: `${asked}: got ${line}, exact ${exact} (relative error ${error})` };
  return { ok: true };
}

/**
 * One course-style exchange with the proxy: connect, read the greeting, send the question,
 * read the answer, close. Never retried: whatever goes wrong is the outcome.
 */
export function askOnce(proxy: Endpoint, question: Question, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  return new Promise((resolve) => {
    const splitter = new LineSplitter({ maxLineBytes: 64 * 1024 });
    const lines: string[] = [];
    const socket = connect({ host: proxy.host, port: proxy.port, noDelay: true });
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const failed = (detail: string) => finish({ kind: 'failed', latencyMs: elapsed(), detail: `${question.from} ${question.to} ${formatAmount(question.amount)}: ${detail}` });
    const timer = setTimeout(() => failed(`no answer within ${timeoutMs} ms (${lines.length} lines read)`), timeoutMs);
    const judge = () => {
      const verdict = judgeAnswer(question, lines[1]);
      finish(verdict.ok ? { kind: 'right', latencyMs: elapsed() } : { kind: verdict.kind, latencyMs: elapsed(), detail: verdict.detail });
    };
    socket.on('data', (chunk: Buffer) => {
      for (const framed of splitter.push(chunk)) {
        lines.push(framed.ok ? framed.line : `<${framed.failure.code}>`);
        // The greeting first; the question only after it, as a course client does.
        if (lines.length === 1) socket.write(`${question.from} ${question.to} ${formatAmount(question.amount)}\n`);
      }
      if (lines.length >= 2) judge();
    });
    socket.on('end', () => {
      for (const framed of splitter.end()) lines.push(framed.ok ? framed.line : `<${framed.failure.code}>`);
      if (lines.length >= 2) judge();
      else failed(`closed after ${lines.length} line(s)`);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => failed(`connection failed: ${error.code ?? error.message}`));
    socket.on('close', () => failed('connection closed'));
  });
}

export type LoadStats = {
  requests: number;
  failures: number;
  wrong: number;
  latenciesMs: number[];
  /** The first few failures and wrong answers, for the report. */
  samples: string[];
};

export type Load = { readonly stats: LoadStats; stop(): Promise<void> };

/**
 * `clients` closed loops, each asking its next question as soon as the last is answered, each
 * drawing questions from its own seeded stream.
 */
export function startLoad(options: {
  proxy: () => Endpoint;
  units: readonly string[];
  clients: number;
  seed: number;
  timeoutMs: number;
  maxSamples?: number;
}): Load {
  const stats: LoadStats = { requests: 0, failures: 0, wrong: 0, latenciesMs: [], samples: [] };
  const maxSamples = options.maxSamples ?? 20;
  let running = true;
  const loops = Array.from({ length: options.clients }, async (_, client) => {
    const random = substream(options.seed, 1000 + client);
    while (running) {
      const outcome = await askOnce(options.proxy(), drawQuestion(random, options.units), options.timeoutMs);
      stats.requests++;
      stats.latenciesMs.push(outcome.latencyMs);
      if (outcome.kind === 'right') continue;
      if (outcome.kind === 'wrong') stats.wrong++;
      else stats.failures++;
      if (stats.samples.length < maxSamples) stats.samples.push(`${new Date().toISOString()} ${outcome.kind}: ${outcome.detail}`);
    }
  });
  return {
    stats,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
