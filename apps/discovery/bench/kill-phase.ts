// The measuring part of lease-scale.bench.ts: endpoints die one after another, and for each one
// the time from its death (the farm's clock, when it closed the listener and stopped announcing)
// until LOOKUP of its pair stops naming it (polled every 20 ms; the reply's arrival counts, so
// the figure errs long by up to one poll) and until every watcher has read
// a CHANGE line that takes it out of service. A LOOKUP load runs meanwhile, in slices.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Conversation, start } from './scale-tools';

export type FarmStats = { sent: number; ok: number; failed: number; failures: Record<string, number>; queuedBytes: number; reconnects: number };
export type Farm = { child: ChildProcess | undefined; endpoints: { host: string; port: number }[]; stats: FarmStats; onLine: (line: string) => void };
export type Victim = {
  index: number;
  pair: [string, string];
  /** What LOOKUP answers for it: `<host> <port>`. */
  key: string;
  state: 'ready' | 'killing' | 'dead' | 'counted' | 'reviving';
  killedAt: number;
  /** When the farm last wrote its ADD (epoch ms): a lease lapses about one lease after it. */
  announcedAt: number;
  lookupAt: number;
  /** Watcher -> when it read the CHANGE line (epoch ms). */
  heard: Map<number, number>;
  polling: boolean;
};

export type KillPhase = {
  port: number;
  control: Conversation;
  farm: Farm;
  victims: Victim[];
  kills: number;
  watchers: number;
  leaseMs: number;
  load: boolean;
  lookups: string[];
  log: (text: string) => void;
};

export type Outcome = {
  /** Per kill, ms until LOOKUP stopped naming it (Infinity: not within the give-up time). */
  lookup: number[];
  /** Per kill, ms from its last ADD written until LOOKUP stopped naming it (the lease as served). */
  sinceAnnounce: number[];
  /** Per kill, ms until the last watcher heard. */
  watch: number[];
  missedWatch: number;
  rps: number[];
  measure: (port: number) => Promise<{ rps: number; failures: number }>;
};

const POLL_MS = 20;
const PHASE_LIMIT_MS = 300_000;
const LOAD_CONNECTIONS = 16;
const LOAD_SLICE_MS = 3000;
const GENERATOR = fileURLToPath(new URL('./load-generator.ts', import.meta.url));

export async function killPhase(o: KillPhase): Promise<Outcome> {
  const giveUpMs = o.leaseMs * 12;
  const rotate = o.victims.length < o.kills;
  const lookup: number[] = [];
  const sinceAnnounce: number[] = [];
  const watch: number[] = [];
  let missedWatch = 0;
  let kills = 0;
  let counted = 0;
  let next = 0;
  let finished = false;
  const write = (command: string) => o.farm.child?.stdin?.write(`${command}\n`);
  o.farm.onLine = (line) => {
    const [verb, index, at, announced] = line.split(' ');
    const victim = o.victims[Number(index)];
    if (victim === undefined) return;
    if (verb === 'KILLED') {
      victim.killedAt = Number(at);
      victim.announcedAt = Number(announced);
      victim.lookupAt = 0;
      victim.heard.clear();
      victim.state = 'dead';
    } else if (verb === 'REVIVED') victim.state = 'reviving';
  };

  const measure = async (port: number) => {
    const generator = await start(process.execPath, ['--import', 'tsx', GENERATOR, String(port), 'lookup', String(LOAD_CONNECTIONS), String(LOAD_SLICE_MS), '300', o.lookups.join('|')], /^(\{.*\})$/);
    return JSON.parse(generator.match[1] ?? '{}') as { rps: number; failures: number };
  };
  const rps: number[] = [];
  const loading = (async () => {
    while (o.load && !finished) {
      const slice = await measure(o.port);
      if (slice.failures > 0) o.log(`  (${slice.failures} LOOKUP FAILURE replies under load)`);
      rps.push(slice.rps);
    }
  })();

  // One kill every 200-300 ms (jittered, so kills fall at every phase of the announce interval).
  const killNext = () => {
    if (finished || kills >= o.kills) return;
    for (let k = 0; k < o.victims.length; k++) {
      const victim = o.victims[(next + k) % o.victims.length];
      if (victim?.state !== 'ready') continue;
      victim.state = 'killing';
      next = victim.index + 1;
      kills++;
      write(`kill ${victim.index}`);
      break;
    }
    killer = setTimeout(killNext, 200 + Math.random() * 100);
  };
  let killer = setTimeout(killNext, 0);

  const poll = (victim: Victim) => {
    victim.polling = true;
    void o.control.ask(`LOOKUP ${victim.pair[0]} ${victim.pair[1]}`).then(([line]) => {
      victim.polling = false;
      if (victim.state === 'dead' && victim.lookupAt === 0 && line !== victim.key) victim.lookupAt = Date.now();
      if (victim.state === 'reviving' && line === victim.key) victim.state = 'ready';
    });
  };

  const phaseStarted = Date.now();
  await new Promise<void>((done) => {
    const poller = setInterval(() => {
      const now = Date.now();
      // Revived endpoints that never come back (probing alone, at scale) must not hang the bench.
      if (now - phaseStarted > PHASE_LIMIT_MS) {
        o.log(`  gave up after ${PHASE_LIMIT_MS / 1000} s with ${counted} of ${o.kills} kills measured`);
        clearInterval(poller);
        done();
        return;
      }
      for (const victim of o.victims) {
        if (!victim.polling && ((victim.state === 'dead' && victim.lookupAt === 0) || victim.state === 'reviving')) poll(victim);
        if (victim.state !== 'dead') continue;
        const late = now - victim.killedAt > giveUpMs;
        if (!late && (victim.lookupAt === 0 || victim.heard.size < o.watchers)) continue;
        victim.state = 'counted';
        counted++;
        const outMs = victim.lookupAt === 0 ? Infinity : victim.lookupAt - victim.killedAt;
        lookup.push(outMs);
        if (victim.lookupAt !== 0) sinceAnnounce.push(victim.lookupAt - victim.announcedAt);
        const heardMs = victim.heard.size === o.watchers ? Math.max(...victim.heard.values()) - victim.killedAt : Infinity;
        if (heardMs === Infinity) missedWatch++;
        else watch.push(heardMs);
        const shown = (ms: number) => (ms === Infinity ? `not within ${giveUpMs / 1000} s` : `${(ms / 1000).toFixed(2)} s`);
        o.log(`  kill ${counted}/${o.kills} (${victim.key}): out of LOOKUP after ${shown(outMs)}, all ${o.watchers} watchers told after ${shown(heardMs)}; its last ADD was written ${shown(victim.killedAt - victim.announcedAt)} before it died`);
        if (rotate) write(`revive ${victim.index}`);
      }
      if (counted >= o.kills) {
        clearInterval(poller);
        done();
      }
    }, POLL_MS);
  });
  finished = true;
  clearTimeout(killer);
  await loading;
  return { lookup, sinceAnnounce, watch, missedWatch, rps, measure };
}
