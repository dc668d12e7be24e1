import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('the README example runs as written and prints what its comments say', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  // Inside the package folder so that `@conv/protocol` resolves to this package (self-reference).
  const dir = new URL('..', import.meta.url).pathname;
  const file = join(dir, `readme-example-${process.pid}.mjs`);
  try {
    writeFileSync(file, code ?? '');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@conv/source', file], {
      encoding: 'utf8',
      cwd: dir,
    });
    expect(out).toContain("verb: 'LOOKUP', units: [ 'lbs', 'b' ]");
    expect(out).toContain('(UNKNOWN_VERB)');
    expect(out).toContain('LOOKUP_MULTI $ cm');
    expect(out).toContain("kind: 'path'");
  } finally {
    rmSync(file, { force: true });
  }
});
