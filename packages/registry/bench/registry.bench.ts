// Registry benchmark: 100,000 endpoints in 10,000 pools, on a real file in a temp dir.
// Run: pnpm --filter @conv/registry bench. Prints figures next to their targets.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Registry, unitPair, type Endpoint, type UnitPair } from '@conv/registry';

// Heap figures mean something only after a full collection; expose gc without a node flag.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ENDPOINTS = 100_000;
const POOLS = 10_000;
const NEXT_CALLS = 10_000_000;

const dir = mkdtempSync(join(tmpdir(), 'conv-registry-bench-'));
const file = join(dir, 'registry.sqlite');
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const rate = (count: number, ms: number): number => Math.round((count / ms) * 1000);
const fmt = (n: number): string => n.toLocaleString('en-US');
const verdict = (ok: boolean | undefined): string => (ok === undefined ? '' : ok ? 'met' : 'MISSED');
const results: string[] = [];
let missed = 0;
function report(name: string, figure: string, target: string, ok?: boolean): void {
  if (ok === false) missed++;
  const line = `${name.padEnd(28)} ${figure.padStart(22)}   target ${target.padEnd(14)} ${verdict(ok)}`;
  results.push(line);
  log(line);
}

// 10,000 distinct pairs "u<i>" <-> "v<i>"; endpoint i serves pair i % POOLS, on 127.x hosts.
const pairs: UnitPair[] = Array.from({ length: POOLS }, (_, i) => unitPair(`u${i}`, `v${i}`));
const endpointAt = (i: number): Endpoint => ({ host: `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 10_000 + (i % 50_000) });

try {
  log(`registry benchmark: ${fmt(ENDPOINTS)} endpoints in ${fmt(POOLS)} pools, file ${file}`);

  // 1. Durable add: one SQLite transaction per add, each committed before add() returns.
  let registry = Registry.open({ path: file });
  let start = performance.now();
  for (let i = 0; i < ENDPOINTS; i++) {
    const pair = pairs[i % POOLS]!;
    const outcome = registry.add(pair, endpointAt(i), { health: 'up' });
    if (!outcome.ok) throw new Error(`add ${i} refused`);
    if ((i + 1) % 25_000 === 0) log(`  added ${fmt(i + 1)}`);
  }
  const addMs = performance.now() - start;
  const addRate = rate(ENDPOINTS, addMs);
  report('durable add', `${fmt(addRate)}/s`, '>= 20,000/s', addRate >= 20_000);

  // 2. next(): by pair (Map lookups each call) and through held pool handles.
  let sink = 0;
  for (let i = 0; i < 1_000_000; i++) sink += registry.next(pairs[i % POOLS]!)?.port ?? 0; // warm up
  start = performance.now();
  for (let i = 0; i < NEXT_CALLS; i++) sink += registry.next(pairs[i % POOLS]!)?.port ?? 0;
  const nextRate = rate(NEXT_CALLS, performance.now() - start);
  report('next(pair)', `${fmt(nextRate)}/s`, '>= 2,000,000/s', nextRate >= 2_000_000);

  const handles = pairs.map((pair) => registry.pool(pair));
  for (let i = 0; i < 1_000_000; i++) sink += handles[i % POOLS]!.next()?.port ?? 0;
  start = performance.now();
  for (let i = 0; i < NEXT_CALLS; i++) sink += handles[i % POOLS]!.next()?.port ?? 0;
  const handleRate = rate(NEXT_CALLS, performance.now() - start);
  report('pool(pair).next()', `${fmt(handleRate)}/s`, '>= 2,000,000/s', handleRate >= 2_000_000);
  if (sink === 0) throw new Error('next() returned nothing');

  gc();
  const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
  report('heap used (100k loaded)', `${heapMb.toFixed(1)} MB`, '-');
  registry.close();
  const sizeMb = (statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0)) / 1024 / 1024;
  report('file size (db + wal)', `${sizeMb.toFixed(1)} MB`, '-');

  // 3. Reopen: open, integrity check, load and rebuild every pool.
  start = performance.now();
  registry = Registry.open({ path: file });
  const reopenMs = performance.now() - start;
  const restored = registry.counts().endpoints;
  if (restored !== ENDPOINTS) throw new Error(`reopen restored ${restored} endpoints`);
  report('reopen + restore 100k', `${reopenMs.toFixed(0)} ms`, '< 1,000 ms', reopenMs < 1000);
  gc();
  report('heap used (after reopen)', `${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1)} MB`, '-');

  // 4. Durable remove: one transaction each, committed before remove() returns.
  start = performance.now();
  for (let i = 0; i < ENDPOINTS; i++) {
    if (!registry.remove(endpointAt(i)).ok) throw new Error(`remove ${i} refused`);
    if ((i + 1) % 25_000 === 0) log(`  removed ${fmt(i + 1)}`);
  }
  const removeRate = rate(ENDPOINTS, performance.now() - start);
  report('durable remove', `${fmt(removeRate)}/s`, '-');
  registry.close();

  log('\nsummary');
  for (const line of results) log(`  ${line}`);
  log(missed === 0 ? 'all targets met' : `${missed} target(s) missed (see MISSED above); timings on a shared machine are noisy`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
