import { describe, expect, it } from 'vitest';
import { EtcdConfigSchema, etcdPlan, storeUrl } from '../src/etcd-command';
import { UpConfigSchema } from '../src/up-command';
import { discoverySpecs } from '../src/system';

const flag = (args: readonly string[], name: string) => args[args.indexOf(name) + 1];

describe('conv etcd --members 3: the plan', () => {
  const config = EtcdConfigSchema.parse({ members: '3', dataDir: '/srv/conv/data' });
  const ports = [0, 1, 2].map((i) => ({ client: 2379 + 2 * i, peer: 2380 + 2 * i }));
  const plan = etcdPlan(config, ports);

  it('names three members, each with its own data dir under data/etcd and its own ports', () => {
    expect(plan.map((m) => [m.name, m.clientPort, m.peerPort, m.dataDir])).toEqual([
      ['m1', 2379, 2380, '/srv/conv/data/etcd/m1'],
      ['m2', 2381, 2382, '/srv/conv/data/etcd/m2'],
      ['m3', 2383, 2384, '/srv/conv/data/etcd/m3'],
    ]);
  });

  it('starts every member knowing the whole cluster, on loopback only, with the heartbeat and election timeout etcd defaults to, stated', () => {
    for (const member of plan) {
      expect(flag(member.args, '--initial-cluster')).toBe('m1=http://127.0.0.1:2380,m2=http://127.0.0.1:2382,m3=http://127.0.0.1:2384');
      expect(flag(member.args, '--listen-client-urls')).toBe(`http://127.0.0.1:${member.clientPort}`);
      expect(flag(member.args, '--listen-peer-urls')).toBe(`http://127.0.0.1:${member.peerPort}`);
      expect(flag(member.args, '--heartbeat-interval')).toBe('100');
      expect(flag(member.args, '--election-timeout')).toBe('1000');
    }
  });

  it('gives the list to pass as --store, which conv up takes and hands to every discovery replica', () => {
    const url = storeUrl(plan);
    expect(url).toBe('etcd://127.0.0.1:2379,127.0.0.1:2381,127.0.0.1:2383');
    const up = UpConfigSchema.parse({ dataDir: '/tmp/x', store: url, discoveryReplicas: '2' });
    const specs = discoverySpecs({ ...up, dbPath: '/tmp/x/d.db', logLevel: 'info' });
    for (const spec of specs) expect(flag(spec.args(spec.port), '--store')).toBe(url);
  });

  it('keeps one member as before: named conv, its data in data/etcd', () => {
    const [single] = etcdPlan(EtcdConfigSchema.parse({ dataDir: '/d' }), [{ client: 2379, peer: 2380 }]);
    expect([single?.name, single?.dataDir, flag(single?.args ?? [], '--initial-cluster')]).toEqual(['conv', '/d/etcd', 'conv=http://127.0.0.1:2380']);
  });

  it('refuses an even number of members, overlapping ports and a malformed member list', () => {
    const etcdError = (input: object) => EtcdConfigSchema.safeParse({ dataDir: '/d', ...input }).error?.issues[0]?.message;
    expect(etcdError({ members: '2' })).toMatch(/^must be 1, 3 or 5/);
    expect(etcdError({ members: '3', port: '2379', peerPort: '2381' })).toMatch(/overlap/);
    expect(etcdError({ members: '3', port: '0' })).toBeUndefined();
    const upError = (store: string) => UpConfigSchema.safeParse({ dataDir: '/d', store }).error?.issues[0]?.message;
    expect(upError('etcd://127.0.0.1:2379,127.0.0.1:2381,[::1]:2383')).toBeUndefined();
    for (const bad of ['etcd://127.0.0.1:2379,,127.0.0.1:2381', 'etcd://127.0.0.1', 'etcd://a:1, b:2', 'http://127.0.0.1:2379']) {
      expect(upError(bad), bad).toMatch(/^must be etcd:\/\/host:port\[,host:port\.\.\.\]/);
    }
  });
});
