import type { WatchChange, WatchEntry, WatchPosition } from '@conv/protocol';
import { describe, expect, it } from 'vitest';
import { WatchFollower, silentLogger } from '../src/index';

function recorder() {
  const seen: string[] = [];
  const watcher = {
    name: 'p1',
    httpPort: 9100,
    snapshot: (entries: WatchEntry[], position: WatchPosition) => seen.push(`snapshot ${entries.length} ${position.epoch} ${position.seq}`),
    change: (change: WatchChange) => seen.push(`change ${change.seq} ${change.kind} ${change.endpoint.port}`),
    unsupported: () => seen.push('unsupported'),
  };
  return { seen, follower: new WatchFollower(watcher, silentLogger) };
}

describe('a watch across reconnects', () => {
  it('asks from scratch, then resumes from the last change applied, and tells a resume from a snapshot', () => {
    const { seen, follower } = recorder();
    expect(follower.begin(['session', 'watch'])).toBe('WATCH as=p1 http=9100\n');
    expect(follower.take('ENTRY ft in 127.0.0.1 4001 up')).toBe('taken');
    expect(follower.take('SYNCED e1 7')).toBe('taken');
    expect(follower.take('PONG')).toBe('not-mine');
    expect(follower.take('CHANGE e1 8 removed ft in 127.0.0.1 4001 up')).toBe('taken');
    follower.end();
    expect(follower.begin(['watch'])).toBe('WATCH e1 8 as=p1 http=9100\n');
    // The same position and no entries: a resume, the view is kept.
    expect(follower.take('SYNCED e1 8')).toBe('taken');
    expect(follower.take('CHANGE e1 9 added ft in 127.0.0.1 4002 pending')).toBe('taken');
    follower.end();
    follower.begin(['watch']);
    // Another epoch (a restart): a snapshot, even an empty one.
    follower.take('SYNCED e2 3');
    expect(seen).toEqual(['snapshot 1 e1 7', 'change 8 removed 4001', 'change 9 added 4002', 'snapshot 0 e2 3']);
  });

  it('asks for a resync on a change out of sequence or from another epoch, and applies neither', () => {
    const { seen, follower } = recorder();
    follower.begin(['watch']);
    follower.take('SYNCED e1 0');
    expect(follower.take('CHANGE e1 2 added ft in 127.0.0.1 4001 up')).toBe('resync');
    expect(follower.take('CHANGE e9 1 added ft in 127.0.0.1 4001 up')).toBe('resync');
    expect(follower.take('CHANGE e1 1 added ft in 127.0.0.1')).toBe('resync');
    expect(seen).toEqual(['snapshot 0 e1 0']);
  });

  it('says so when the server lists no watch, or refuses it', () => {
    const { seen, follower } = recorder();
    expect(follower.begin(['session'])).toBeUndefined();
    follower.begin(['watch']);
    expect(follower.take('FAILURE unknown command. "WATCH" is not a command. (UNKNOWN_VERB)')).toBe('taken');
    expect(seen).toEqual(['unsupported', 'unsupported']);
    expect(follower.live).toBe(false);
  });
});
