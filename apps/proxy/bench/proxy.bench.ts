/**
 * Benchmark of the proxy (issue 6): `pnpm --filter proxy bench`.
 *
 * Starts discovery, the converters for a one-hop pair (ft:in) and the four-hop route
 * lbs -> b -> in -> cm -> m, and the proxy, as child processes from their built dist; then a
 * load generator (its own process) makes one-shot course-protocol connections with 16 clients:
 * straight at the ft:in converter, at the proxy for ft -> in, and at the proxy for lbs -> m.
 * Prints conversions/s and p99 for each, and the ratios against their targets.
 *
 * Then the proxy against HAProxy (issue 20) on the same two ft:in converters: one-shot clients
 * at c = 1, 32 and 128, in interleaved rounds (which side goes first alternates), medians of
 * the rounds; and an overload of 1,024 clients at once, where refusals are counted apart from
 * errors and conversions slower than 5 s are counted. Figures on a shared two-core machine are
 * noisy: every process here competes for the same cores.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeStolenCpu, withoutStolenCpu } from '@conv/testkit';
import { HAPROXY_HOW, haproxyVersion, startHaproxy } from './haproxy.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const APP = {
  discovery: `${root}apps/discovery/dist/main.js`,
  converter: `${root}apps/converter/dist/main.js`,
  proxy: `${root}apps/proxy/dist/main.js`,
};
const LOAD = fileURLToPath(new URL('./load-generator.ts', import.meta.url));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HAPROXY_CONCURRENCY = [1, 32, 128];
const OVERLOAD_CLIENTS = 1024;
/** More proxy flags, space-separated (`BENCH_PROXY_FLAGS='--pipeline-depth 16'`). */
const PROXY_FLAGS = (process.env.BENCH_PROXY_FLAGS ?? '').split(' ').filter((flag) => flag !== '');

const children: ChildProcess[] = [];

function stopChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}
process.on('exit', stopChildren);
process.on('SIGINT', () => {
  stopChildren();
  process.exit(130);
});

/** Starts a server and resolves with its port once it prints `listening on host:port`. */
function start(script: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no banner from ${script}:\n${out}`)), 15_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on \[?[^\s\]]+?\]?:(\d+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    // stderr is the app's log; keep only the banner search, drop the rest.
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!/listening on/.test(out)) onData(chunk);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before its banner:\n${out}`)));
  });
}

/** One request over one connection (course style); returns the answer line. */
async function ask(port: number, request: string): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('connect', () => socket.write(`${request}\n`));
    socket.on('error', reject);
    socket.on('close', () => resolve(text.split('\n')[1]?.trim() ?? ''));
  });
}

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Figures = { conversions: number; errors: number; refused: number; over5s: number; seconds: number; p50Ms: number; p99Ms: number; firstError?: string; stolen?: number };

function load(label: string, port: number, request: string, expected: string, concurrency = CONCURRENCY): Promise<Figures> {
  console.log(`${label}: ${concurrency} one-shot clients, "${request}", ${WARMUP_MS}ms warm-up + ${DURATION_MS}ms`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', LOAD, String(port), request, expected, String(concurrency), String(WARMUP_MS), String(DURATION_MS)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}: ${out}`));
      resolve(JSON.parse(out) as Figures);
    });
  });
}

/** `load`, run again when the hypervisor took CPU from it (see withoutStolenCpu). */
async function fairLoad(label: string, port: number, request: string, expected: string, concurrency = CONCURRENCY): Promise<Figures> {
  const { result, stolen } = await withoutStolenCpu(`${label} at c=${concurrency}`, () => load(label, port, request, expected, concurrency), console.log);
  return { ...result, stolen };
}

function report(label: string, figures: Figures): number {
  const rate = figures.conversions / figures.seconds;
  const errors = figures.errors ? `   ${figures.errors} errors (first: ${figures.firstError ?? '?'})` : '';
  const refused = figures.refused ? `   ${figures.refused} refused` : '';
  console.log(`  ${label.padEnd(28)} ${rate.toFixed(0).padStart(7)} conversions/s   p50 ${figures.p50Ms.toFixed(2)} ms   p99 ${figures.p99Ms.toFixed(2)} ms${errors}${refused}`);
  return rate;
}

for (const [name, script] of Object.entries(APP)) {
  if (!existsSync(script)) {
    console.error(`bench: ${name} is not built (${script}); run "pnpm build" first.`);
    process.exit(1);
  }
}

console.log('starting discovery, 6 converters (two for ft:in) and the proxy...');
const discovery = await start(APP.discovery, ['--port', '0', '--db', ':memory:', '--check-interval', '1s', '--log-level', 'warn']);
const pairs = ['ft:in', 'ft:in', 'lbs:b', 'b:in', 'in:cm', 'cm:m'];
const ports = await Promise.all(pairs.map((pair) => start(APP.converter, ['0', '--pair', pair, '--discovery', `127.0.0.1:${discovery}`, '--log-level', 'warn'])));
const direct = ports[0] ?? 0;
const oneHopConverters = [ports[0] ?? 0, ports[1] ?? 0];
const proxy = await start(APP.proxy, ['0', '127.0.0.1', String(discovery), '--log-level', 'warn', ...PROXY_FLAGS]);
if (PROXY_FLAGS.length > 0) console.log(`proxy flags: ${PROXY_FLAGS.join(' ')}`);

const oneHop = 'ft in 1.25';
const fourHop = 'lbs m 45.6';
await until('the proxy answering one hop', async () => (await ask(proxy, oneHop)) === '15');
await until('the proxy answering four hops', async () => /^\d/.test(await ask(proxy, fourHop)));
const fourHopAnswer = await ask(proxy, fourHop);
console.log(`ready: ${oneHop} -> 15, ${fourHop} -> ${fourHopAnswer}\n`);

const figures = {
  direct: await fairLoad('direct to the converter', direct, oneHop, '15'),
  proxyOne: await fairLoad('one hop via the proxy', proxy, oneHop, '15'),
  proxyFour: await fairLoad('four hops via the proxy', proxy, fourHop, fourHopAnswer),
};

console.log('\nresults (one-shot course clients, concurrency ' + CONCURRENCY + '):');
const directRate = report('direct ft->in', figures.direct);
const oneRate = report('proxy ft->in (1 hop)', figures.proxyOne);
const fourRate = report('proxy lbs->m (4 hops)', figures.proxyFour);
const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)}   target >= ${target}   ${ratio >= target ? 'met' : 'NOT MET'}`;
console.log(`  ratio proxy/direct (1 hop):  ${verdict(oneRate / directRate, 0.5)}`);
console.log(`  ratio four-hop/one-hop:      ${verdict(fourRate / oneRate, 0.4)}`);

await againstHaproxy();
stopChildren();

async function againstHaproxy(): Promise<void> {
  const version = haproxyVersion();
  if (!version) {
    console.log(`\nproxy vs HAProxy: skipped, haproxy is not installed (${HAPROXY_HOW}).`);
    return;
  }
  const haproxy = await startHaproxy(oneHopConverters, children);
  await until('haproxy answering one hop', async () => (await ask(haproxy, oneHop)) === '15');
  console.log(`\nproxy vs ${version}: the same two ft:in converters, ${ROUNDS} interleaved rounds`);
  const sides = { proxy, haproxy };
  const runs: Record<string, Figures[]> = {};
  const measure = async (key: string, side: keyof typeof sides, clients: number) => {
    const figures = await fairLoad(`${side}, round ${(runs[key]?.length ?? 0) + 1}`, sides[side], oneHop, '15', clients);
    (runs[key] ??= []).push(figures);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order: (keyof typeof sides)[] = round % 2 === 0 ? ['proxy', 'haproxy'] : ['haproxy', 'proxy'];
    for (const clients of [...HAPROXY_CONCURRENCY, OVERLOAD_CLIENTS]) for (const side of order) await measure(`${side}:${clients}`, side, clients);
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  const summary = (key: string) => {
    const all = runs[key] ?? [];
    return {
      rate: median(all.map((f) => f.conversions / f.seconds)),
      p50: median(all.map((f) => f.p50Ms)),
      p99: median(all.map((f) => f.p99Ms)),
      refused: median(all.map((f) => f.refused)),
      errors: median(all.map((f) => f.errors)),
      over5s: Math.max(...all.map((f) => f.over5s)),
      firstError: all.find((f) => f.firstError)?.firstError,
    };
  };
  console.log(`\nresults (medians of ${ROUNDS} rounds; target: proxy/HAProxy throughput >= 1.0 and p99 no worse):`);
  for (const clients of HAPROXY_CONCURRENCY) {
    const mine = summary(`proxy:${clients}`);
    const theirs = summary(`haproxy:${clients}`);
    const ratio = mine.rate / theirs.rate;
    const met = ratio >= 1 && mine.p99 <= theirs.p99 ? 'met' : 'NOT MET';
    console.log(
      `  c=${String(clients).padEnd(4)} proxy ${mine.rate.toFixed(0).padStart(6)}/s p50 ${mine.p50.toFixed(2)} p99 ${mine.p99.toFixed(2)} ms` +
        `   haproxy ${theirs.rate.toFixed(0).padStart(6)}/s p50 ${theirs.p50.toFixed(2)} p99 ${theirs.p99.toFixed(2)} ms   ratio ${ratio.toFixed(2)}   ${met}`,
    );
  }
  const mine = summary(`proxy:${OVERLOAD_CLIENTS}`);
  const theirs = summary(`haproxy:${OVERLOAD_CLIENTS}`);
  const met = mine.over5s === 0 && mine.p99 < 1000 && mine.p99 <= 1.5 * theirs.p99 ? 'met' : 'NOT MET';
  console.log(`  overload, ${OVERLOAD_CLIENTS} clients at once (target: none over 5 s, p99 under 1 s and within 1.5x of HAProxy's):`);
  for (const [side, figures] of [['proxy', mine], ['haproxy', theirs]] as const) {
    console.log(
      `    ${side.padEnd(8)} ${figures.rate.toFixed(0).padStart(6)}/s p99 ${figures.p99.toFixed(0)} ms, ${figures.over5s} over 5 s, ` +
        `${figures.refused} refused, ${figures.errors} errors${figures.firstError ? ` (first: ${figures.firstError})` : ''}`,
    );
  }
  console.log(`    ${met} (rates, p99 and counts are medians of the rounds; over 5 s is the worst round)`);
  const worst = Math.max(...Object.values(runs).flat().map((f) => f.stolen ?? 0));
  const warning = describeStolenCpu(worst);
  if (warning !== '') console.log(`  worst round${warning}; run again on a quieter host before reading these ratios.`);
}
