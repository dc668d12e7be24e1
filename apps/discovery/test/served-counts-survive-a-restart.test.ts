import { type ServerProcess, loggedHttpUrl, waitFor } from '@conv/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { FAST_CHECKS, askOnce, startDiscovery, tempDir, useFakeConverters } from './helpers';

const dir = tempDir();
const converter = useFakeConverters();
afterAll(() => dir.remove());

type Report = { pools: { endpoints: { address: string; health: string; served: number }[] }[] };

async function statusOf(discovery: ServerProcess): Promise<Report> {
  const url = await waitFor(() => loggedHttpUrl(discovery.output()), { what: 'the operator port address', timeoutMs: 10_000 });
  return (await (await fetch(`${url}status.json`)).json()) as Report;
}

async function servedOf(discovery: ServerProcess): Promise<Record<string, number>> {
  const report = await statusOf(discovery);
  return Object.fromEntries(report.pools.flatMap((pool) => pool.endpoints.map((e) => [e.address, e.served])));
}

/** Starts discovery on `db` and waits until the three endpoints it knows (or is told) are up. */
async function startWithThreeUp(db: string, extra: readonly string[] = []): Promise<ServerProcess> {
  const discovery = await startDiscovery(['--db', db, '--http-port', '0', ...FAST_CHECKS, ...extra]);
  await waitFor(
    async () => {
      const endpoints = (await statusOf(discovery)).pools.flatMap((pool) => pool.endpoints);
      return endpoints.length === 3 && endpoints.every((e) => e.health === 'up');
    },
    { what: 'three endpoints up', timeoutMs: 20_000 },
  );
  return discovery;
}

/** Two ft/in converters and one in/cm, registered in that order; then 5 LOOKUPs of ft/in and one of in/cm. */
async function registerAndServe(db: string, extra: readonly string[] = []): Promise<{ discovery: ServerProcess; counted: Record<string, number> }> {
  const [a, b, c] = await Promise.all([
    converter(['ft', 'in'], { factor: 12 }),
    converter(['ft', 'in'], { factor: 12 }),
    converter(['in', 'cm'], { factor: 2.54 }),
  ]);
  if (!a || !b || !c) throw new Error('a fake converter did not start');
  const discovery = await startDiscovery(['--db', db, '--http-port', '0', ...FAST_CHECKS, ...extra]);
  for (const converter of [a, b, c]) {
    expect(await askOnce(discovery.port, `ADD ${converter.units[0]} ${converter.units[1]} 127.0.0.1 ${converter.port}`)).toEqual(['SUCCESS']);
  }
  for (let i = 0; i < 5; i++) expect((await askOnce(discovery.port, 'LOOKUP ft in'))[0]).toMatch(/^127\.0\.0\.1 \d+$/);
  expect(await askOnce(discovery.port, 'LOOKUP cm in')).toEqual([`127.0.0.1 ${c.port}`]);
  const counted = { [`127.0.0.1:${a.port}`]: 3, [`127.0.0.1:${b.port}`]: 2, [`127.0.0.1:${c.port}`]: 1 };
  return { discovery, counted };
}

describe('the served counts on the status page, across a restart of discovery', () => {
  it('are all kept through SIGTERM right after the LOOKUPs, before any periodic flush', async () => {
    const db = dir.file('sigterm.db');
    const { discovery: first, counted } = await registerAndServe(db);
    expect(await servedOf(first)).toEqual(counted);
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startWithThreeUp(db);
    expect(await servedOf(second)).toEqual(counted);
    // And they go on counting from there, through the next restart.
    const inCm = Object.keys(counted)[2] ?? '';
    expect(await askOnce(second.port, 'LOOKUP in cm')).toEqual([inCm.replace(':', ' ')]);
    expect(await second.stop('SIGTERM')).toBe(0);
    const third = await startWithThreeUp(db);
    expect(await servedOf(third)).toEqual({ ...counted, [inCm]: 2 });
  }, 90_000);

  it('are kept through SIGKILL as of the last periodic flush', async () => {
    const db = dir.file('sigkill.db');
    const { discovery: first, counted } = await registerAndServe(db, ['--log-level', 'debug']);
    await waitFor(() => first.output().includes('"msg":"served-flushed"'), { what: 'a periodic flush of the counts', timeoutMs: 20_000 });
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');

    const second = await startWithThreeUp(db);
    expect(await servedOf(second)).toEqual(counted);
  }, 90_000);
});
