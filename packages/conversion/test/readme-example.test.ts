import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Example'), readme.indexOf('## API'));
const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] ?? '' }));

describe('the README example', () => {
  it('is the example file, verbatim', () => {
    const example = readFileSync(new URL('../examples/course-questions.ts', import.meta.url), 'utf8');
    expect(blocks.find((b) => b.lang === 'ts')?.body).toBe(example);
  });

  it('runs and prints the output the README shows', async () => {
    const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
    const { stdout } = await promisify(execFile)(
      tsx,
      ['--conditions=@conv/source', 'examples/course-questions.ts'],
      { cwd: root },
    );
    expect(stdout).toBe(blocks.find((b) => b.lang === 'text')?.body);
  }, 30_000);
});
