import { findLogs, loggedHttpUrl, waitFor } from '@conv/testkit';
import { describe, expect, it } from 'vitest';
import { FAST_CHECKS, ask, askOnce, openSession, startDiscovery, healthOf, useFakeConverters } from './helpers';

const converter = useFakeConverters();

describe('an exact pair is checked against the catalog', () => {
  it('never hands out a server answering 13 for 1 ft -> in; shows it wrong in LIST, /status.json and the log; hands out the right one', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS, '--http-port', '0']);
    const right = await converter(['ft', 'in']);
    const liar = await converter(['ft', 'in'], { host: '127.0.0.2', answer: (line) => (line === 'ft in 1' ? '13' : undefined) });
    expect(await askOnce(discovery.port, `ADD ft in 127.0.0.2 ${liar.port}`)).toEqual(['SUCCESS']);
    expect(await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${right.port}`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${right.port}`)) === 'up', { what: 'the right one up' });
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.2 ${liar.port}`)) === 'wrong', { what: 'the liar wrong' });

    const client = await openSession(discovery.port);
    const handedOut = new Set<string>();
    for (let i = 0; i < 60; i++) handedOut.add((await ask(client, i % 2 === 0 ? 'LOOKUP ft in' : 'LOOKUP_MULTI ft in'))[0] ?? '');
    client.close();
    expect([...handedOut]).toEqual(expect.arrayContaining([`127.0.0.1 ${right.port}`]));
    expect([...handedOut].some((line) => line.includes(`127.0.0.2 ${liar.port}`))).toBe(false);

    const url = await waitFor(() => loggedHttpUrl(discovery.output()), { what: 'the operator port' });
    const status = (await (await fetch(`${url}status.json`)).json()) as { counts: { wrong: number }; pools: { endpoints: { address: string; health: string }[] }[] };
    expect(status.counts.wrong).toBe(1);
    expect(status.pools[0]?.endpoints).toContainEqual(expect.objectContaining({ address: `127.0.0.2:${liar.port}`, health: 'wrong' }));
    const logged = findLogs(discovery.output(), 'warn', 'health').find((event) => event.endpoint === `127.0.0.2:${liar.port}` && event.to === 'wrong');
    expect(logged).toMatchObject({ answered: '13', reason: 'ft in 1 answered 13, the catalog says 12' });
  });

  it('brings a wrong server back up once it answers right again', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    let lying = true;
    const fickle = await converter(['kg', 'g'], { answer: () => (lying ? '1001' : undefined) });
    await askOnce(discovery.port, `ADD kg g 127.0.0.1 ${fickle.port}`);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${fickle.port}`)) === 'wrong', { what: 'wrong' });
    lying = false;
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${fickle.port}`)) === 'up', { what: 'up again' });
    expect(await askOnce(discovery.port, 'LOOKUP g kg')).toEqual([`127.0.0.1 ${fickle.port}`]);
  });
});

describe('a pair the catalog does not define exactly is checked by inverse and stability', () => {
  it('marks wrong a server whose two directions do not undo each other', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    // Banana to inches rests on a fact: any factor is believable, but back and forth must agree.
    const honest = await converter(['b', 'in'], { factor: 7.5 });
    const lopsided = await converter(['b', 'in'], { host: '127.0.0.2', factor: 7.5, answer: (line) => (line.startsWith('in b ') ? '2' : undefined) });
    await askOnce(discovery.port, `ADD b in 127.0.0.1 ${honest.port}`);
    await askOnce(discovery.port, `ADD b in 127.0.0.2 ${lopsided.port}`);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${honest.port}`)) === 'up', { what: 'the honest one up' });
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.2 ${lopsided.port}`)) === 'wrong', { what: 'the lopsided one wrong' });
  });

  it('marks wrong a server that answers the same question differently', async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS]);
    let turn = 0;
    // Consistent in each exchange (its inverse undoes its answer), but a new factor every probe.
    const drifting = await converter(['aa', 'bb'], {
      answer: (line) => {
        const [from, , amount] = line.split(' ');
        const factor = 2 + Math.floor(turn / 2);
        turn++;
        return from === 'aa' ? String(Number(amount) * factor) : String(Number(amount) / factor);
      },
    });
    await askOnce(discovery.port, `ADD aa bb 127.0.0.1 ${drifting.port}`);
    await waitFor(async () => (await healthOf(discovery.port, `127.0.0.1 ${drifting.port}`)) === 'wrong', { what: 'wrong' });
    const logged = findLogs(discovery.output(), 'warn', 'health').find((event) => event.to === 'wrong');
    expect(String(logged?.reason)).toMatch(/the time before$/);
  });
});
