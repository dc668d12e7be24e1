import Database from 'better-sqlite3';
import { isUnitPair, endpointOf, type Endpoint } from './endpoint';
import { LeaseMsSchema, quote } from '@conv/protocol';
import { RegistryError } from './errors';
import type { RegistryStore, ServedCount, StoredRegistration } from './store';

/** 'conv' in ASCII: marks a file as ours, so a foreign SQLite file is refused, not adopted. */
export const REGISTRY_APPLICATION_ID = 0x636f_6e76;

/**
 * Schema migrations; entry i takes `user_version` i to i + 1. Append, never edit: a file at
 * version n has run exactly the first n entries.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE registration (
     seq      INTEGER PRIMARY KEY,
     unit_a   TEXT    NOT NULL,
     unit_b   TEXT    NOT NULL,
     host     TEXT    NOT NULL,
     port     INTEGER NOT NULL,
     added_at INTEGER NOT NULL,
     UNIQUE (host, port)
   ) STRICT`,
  // 2: how often each endpoint was handed out, flushed now and then so that a restart keeps it.
  `ALTER TABLE registration ADD COLUMN served INTEGER NOT NULL DEFAULT 0`,
  // 3: the lease a heartbeating registration asked for (NULL: none), so a restart restores it.
  `ALTER TABLE registration ADD COLUMN lease_ms INTEGER`,
];

export const REGISTRY_SCHEMA_VERSION = MIGRATIONS.length;

/** The page size of a new registry file (see `prepare`). */
const PAGE_BYTES = 1024;

/** A row as `load` reads it: values in column order (arrays cost a third less to read than objects). */
type Row = [seq: number, unitA: string, unitB: string, host: string, port: number, addedAt: number, served: number, leaseMs: number | null];

/**
 * The registry's durable log in one SQLite file (or `:memory:`).
 *
 * - WAL with `synchronous=NORMAL`: a commit is in the WAL file before the call returns, so it
 *   survives the process being killed; it is fsynced only at checkpoints, so a power loss may
 *   lose the last commits (never corrupt the file).
 * - `locking_mode=EXCLUSIVE`: the lock is taken at open and held until close, so a second
 *   registry on the same file, in any process, is refused with `LOCKED`.
 * - Nothing is written to a file before it has been checked: foreign, newer or corrupt files
 *   are refused and left byte-for-byte as they were.
 */
export class SqliteRegistryStore implements RegistryStore {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #insert: Database.Statement<[number, string, string, string, number, number, number, number | null]>;
  readonly #remove: Database.Statement<[string, number]>;
  readonly #removeMany: (endpoints: readonly Endpoint[]) => void;
  readonly #saveServed: (counts: readonly ServedCount[]) => void;
  #closed = false;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT INTO registration (seq, unit_a, unit_b, host, port, added_at, served, lease_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (host, port) DO UPDATE SET
         seq = excluded.seq, unit_a = excluded.unit_a, unit_b = excluded.unit_b, added_at = excluded.added_at, served = excluded.served,
         lease_ms = excluded.lease_ms`,
    );
    this.#remove = db.prepare('DELETE FROM registration WHERE host = ? AND port = ?');
    const remove = this.#remove;
    this.#removeMany = db.transaction((endpoints: readonly Endpoint[]) => {
      for (const e of endpoints) remove.run(e.host, e.port);
    });
    const update = db.prepare<[number, number]>('UPDATE registration SET served = ? WHERE seq = ?');
    this.#saveServed = db.transaction((counts: readonly ServedCount[]) => {
      for (const { seq, served } of counts) update.run(served, seq);
    });
  }

  /** Opens (or creates) a registry file; throws `RegistryError` with a documented code. */
  static open(path: string): SqliteRegistryStore {
    if (typeof path !== 'string' || path.length === 0) {
      throw new RegistryError('INVALID_OPTIONS', `Expected a file path or ':memory:', received ${quote(path)}.`);
    }
    let db: Database.Database;
    try {
      // timeout 0: a lock held by a live registry is held for good, so waiting only delays the error.
      db = new Database(path, { timeout: 0 });
    } catch (cause) {
      throw new RegistryError('OPEN_FAILED', `Cannot open registry file ${quote(path, 200)}: ${describe(cause)}.`, { cause });
    }
    try {
      prepare(db, path);
      return new SqliteRegistryStore(path, db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  load(): StoredRegistration[] {
    this.#open();
    const rows = this.#db.prepare('SELECT seq, unit_a, unit_b, host, port, added_at, served, lease_ms FROM registration ORDER BY seq').raw(true).all() as Row[];
    return rows.map((row) => toRegistration(row, this.path));
  }

  put(registration: StoredRegistration): void {
    this.#open();
    const { seq, pair, endpoint, addedAt, served = 0, leaseMs } = registration;
    this.#write(() => this.#insert.run(seq, pair[0], pair[1], endpoint.host, endpoint.port, addedAt, served, leaseMs ?? null));
  }

  delete(endpoints: readonly Endpoint[]): void {
    this.#open();
    if (endpoints.length === 0) return;
    const first = endpoints[0];
    if (endpoints.length === 1 && first !== undefined) {
      this.#write(() => this.#remove.run(first.host, first.port));
    } else {
      this.#write(() => this.#removeMany(endpoints));
    }
  }

  /** One transaction for all the counts: a flush costs one commit, however many endpoints served. */
  saveServed(counts: readonly ServedCount[]): void {
    this.#open();
    if (counts.length === 0) return;
    this.#write(() => this.#saveServed(counts));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #write(action: () => unknown): void {
    try {
      action();
    } catch (cause) {
      throw new RegistryError('STORE_FAILED', `Write to registry file ${quote(this.path, 200)} failed: ${describe(cause)}.`, { cause });
    }
  }

  #open(): void {
    if (this.#closed) throw new RegistryError('CLOSED', `The store for ${quote(this.path, 200)} was used after close().`);
  }
}

function prepare(db: Database.Database, path: string): void {
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // A commit writes whole pages to the WAL (a row's table leaf and index leaf): 1 KB pages
    // instead of SQLite's default 4 KB make a durable add or remove about a third faster. It
    // writes nothing, and only a new, empty file takes it; any other keeps the page size it has.
    db.pragma(`page_size = ${PAGE_BYTES}`);
    // Take the lock and read the header before anything is written: only a file we have
    // checked is ever touched. In EXCLUSIVE mode the lock outlives this transaction.
    db.exec('BEGIN EXCLUSIVE');
    try {
      check(db, path);
      db.exec('COMMIT');
    } catch (error) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // Nothing was written; the first error is the one worth reporting.
      }
      throw error;
    }
    if (path !== ':memory:') {
      const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
      if (mode.toLowerCase() !== 'wal') {
        throw new RegistryError('OPEN_FAILED', `Registry file ${quote(path, 200)} cannot use WAL mode (got ${quote(mode)}).`);
      }
    }
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (cause) {
    throw translate(cause, path);
  }
}

function check(db: Database.Database, path: string): void {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const objects = (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n;
  const fresh = applicationId === 0 && version === 0 && objects === 0;
  if (!fresh && applicationId !== REGISTRY_APPLICATION_ID) {
    throw new RegistryError(
      'FOREIGN_FILE',
      `Expected a registry file (application_id ${REGISTRY_APPLICATION_ID}), ${quote(path, 200)} has application_id ${applicationId} and ${objects} schema objects; refusing to touch it.`,
    );
  }
  if (version > REGISTRY_SCHEMA_VERSION) {
    throw new RegistryError(
      'NEWER_VERSION',
      `Registry file ${quote(path, 200)} has schema version ${version}; this code knows up to ${REGISTRY_SCHEMA_VERSION}. Upgrade @conv/registry to open it.`,
    );
  }
  const verdict = db.pragma('quick_check', { simple: true }) as string;
  if (verdict !== 'ok') {
    throw new RegistryError('CORRUPT', `Registry file ${quote(path, 200)} fails its integrity check: ${quote(verdict, 120)}.`);
  }
}

function migrate(db: Database.Database): void {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from === REGISTRY_SCHEMA_VERSION) return;
  db.transaction(() => {
    for (let version = from; version < REGISTRY_SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version] ?? '');
    }
    db.pragma(`application_id = ${REGISTRY_APPLICATION_ID}`);
    db.pragma(`user_version = ${REGISTRY_SCHEMA_VERSION}`);
  })();
}

function translate(cause: unknown, path: string): RegistryError {
  if (cause instanceof RegistryError) return cause;
  const code = (cause as { code?: unknown }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new RegistryError('LOCKED', `Registry file ${quote(path, 200)} is held by another live registry; refusing to share it.`, { cause });
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new RegistryError('CORRUPT', `Registry file ${quote(path, 200)} is not a readable database: ${describe(cause)}.`, { cause });
  }
  return new RegistryError('OPEN_FAILED', `Cannot open registry file ${quote(path, 200)}: ${describe(cause)}.`, { cause });
}

function toRegistration(row: Row, path: string): StoredRegistration {
  const [seq, unitA, unitB, host, port, addedAt, served, lease] = row;
  const pair = [unitA, unitB] as const;
  let endpoint: Endpoint | undefined;
  try {
    endpoint = endpointOf(host, port);
  } catch {
    endpoint = undefined;
  }
  const leaseOk = lease === null || LeaseMsSchema.safeParse(lease).success;
  if (!isUnitPair(pair) || endpoint === undefined || endpoint.host !== host || !Number.isFinite(addedAt) || !Number.isSafeInteger(served) || served < 0 || !leaseOk) {
    const columns = { seq, unit_a: unitA, unit_b: unitB, host, port, added_at: addedAt, served, lease_ms: lease };
    throw new RegistryError('CORRUPT', `Registry file ${quote(path, 200)} holds a row the registry never writes: ${quote(columns, 120)}.`);
  }
  return { seq, pair, endpoint, addedAt, served, ...(lease === null ? {} : { leaseMs: lease }) };
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
