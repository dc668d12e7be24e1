import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('the README example runs as written and prints what its comments say', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Inside the package folder so that `@conv/server` resolves to this package (self-reference).
  const dir = new URL('..', import.meta.url).pathname;
  const file = join(dir, `readme-example-${process.pid}.mjs`);
  try {
    writeFileSync(file, code ?? '');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@conv/source', file], { encoding: 'utf8', cwd: dir });
    const [registered, listening] = out.split('\n').filter((line) => line.startsWith('{"level"')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(registered).toMatchObject({ level: 'info', name: 'demo', endpoint: '127.0.0.1:6001', token: '[redacted]', msg: 'registered' });
    expect(listening).toMatchObject({ msg: 'http-listening', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/) as unknown });
    expect(out).not.toContain('s3cret');
    expect(out).toMatch(/^\{"status":"ok","service":"demo","pair":"ft:in","uptimeSeconds":\d+\}$/m);
    expect(out).toMatch(/^demo listening on 127\.0\.0\.1:\d+ \(loopback only; --host to expose\)$/m);
    expect(out).toContain('"HELLO demo\\nSHOUT PLEASE\\n"');
    expect(out).toContain('demo_requests_total{outcome="ok"} 1');
  } finally {
    rmSync(file, { force: true });
  }
});
