import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { LineClient, openSocket } from './line-client';
import { findLog } from './log-events';
import { startServer, stopAll } from './processes';
import { waitFor } from './wait-for';

/** A conv server as the shared edge suite drives it. */
export type ServerProcessUnderTest = {
  /** `discovery`, `converter`, `proxy`: the prefix of its messages. */
  readonly name: string;
  /** The built entry point. */
  readonly script: string;
  /** Its package.json version, which --version prints. */
  readonly version: string;
  /** Arguments that make it listen on `host`, any free port, needing nothing else running, with a shutdown grace of at least 10 s. */
  args(host: string): string[];
  /** Whether it greets each connection with a line. */
  readonly greets: boolean;
  /** The line that keeps a connection open for several requests (`PERSIST`), and its reply; none when it stays open anyway. */
  readonly keep?: { readonly line: string; readonly reply: string };
  /** A request it answers on its own, and the answer. */
  readonly request: { readonly line: string; readonly answer: string };
};

/** Runs the built program to its exit, for usage errors and --version. */
function run(script: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * What every conv server does the same way, because one edge (@conv/server) does it for all:
 * its command line, a clean stop that answers what is in flight, a second signal that forces
 * the exit, and IPv6. Each app runs it against its own built program.
 */
export function describeServerProcessEdge(server: ServerProcessUnderTest): void {
  const { name, script } = server;

  describe(`${name}: the process edge every server shares`, () => {
    afterEach(stopAll);

    it('answers --version with its package version, and refuses an unknown flag with exit 2 and one line, starting nothing', async () => {
      const version = await run(script, ['--version']);
      expect(version).toMatchObject({ code: 0, stdout: `${server.version}\n` });
      const refused = await run(script, [...server.args('127.0.0.1'), '--bogus']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(`${name}: unknown option --bogus; see --help\n`);
      expect(refused.stdout).toBe('');
    });

    /**
     * A request in flight: on a kept connection, one whole request and then all of the next but
     * its newline, in one write. Once the first is answered, the server has read the second's
     * start too (one small write arrives as one chunk on loopback).
     */
    async function requestInFlight(port: number): Promise<LineClient> {
      const client = await LineClient.connect(port);
      if (server.greets) await client.nextLine();
      if (server.keep) {
        client.send(server.keep.line);
        expect(await client.nextLine()).toBe(server.keep.reply);
      }
      client.socket.write(`${server.request.line}\n${server.request.line}`);
      expect(await client.nextLine()).toBe(server.request.answer);
      return client;
    }

    it('on SIGTERM stops accepting, answers the request in flight, then exits 0', async () => {
      const running = await startServer(script, server.args('127.0.0.1'));
      const client = await requestInFlight(running.port);
      running.kill('SIGTERM');
      await waitFor(() => findLog(running.output(), 'info', 'stopping') !== undefined, { what: `${name} to take the signal` });
      await waitFor(() => openSocket(running.port).then((socket) => (socket.destroy(), false), () => true), { what: 'new connections to be refused' });
      client.send('\n');
      expect(await client.nextLine()).toBe(server.request.answer);
      expect(await running.exited).toBe(0);
    });

    it('exits 1 at once on a second signal, whatever is still in flight', async () => {
      const running = await startServer(script, server.args('127.0.0.1'));
      await requestInFlight(running.port);
      running.kill('SIGTERM');
      await waitFor(() => findLog(running.output(), 'info', 'stopping') !== undefined, { what: `${name} to take the first signal` });
      running.kill('SIGINT');
      expect(await running.exited).toBe(1);
    });

    it('listens and answers on IPv6 loopback (::1)', async () => {
      const running = await startServer(script, server.args('::1'));
      expect(running.host).toBe('::1');
      expect(running.banner).toContain(`listening on [::1]:${running.port} (loopback only`);
      const client = await LineClient.connect(running.port, { host: '::1' });
      if (server.greets) await client.nextLine();
      client.send(server.request.line);
      expect(await client.nextLine()).toBe(server.request.answer);
      client.close();
    });
  });
}
