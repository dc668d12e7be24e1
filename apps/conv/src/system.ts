import type { Endpoint } from '@conv/protocol';
import { formatAddress } from './address';

/** The eleven pairs of the course (../shared/reference/course.md); gK is grams of potassium. */
export const COURSE_PAIRS = [
  ['ft', 'in'],
  ['in', 'cm'],
  ['cm', 'm'],
  ['kg', 'g'],
  ['kg', 'lbs'],
  ['lbs', 'oz'],
  ['oz', '$'],
  ['lbs', 'b'],
  ['b', 'in'],
  ['b', 'gK'],
  ['$', 'y'],
] as const satisfies readonly (readonly [string, string])[];

export type Role = 'discovery' | 'proxy' | 'converter';

/** One process of the system: what to run, and its arguments for a given listening port. */
export type ProcessSpec = {
  readonly name: string;
  readonly role: Role;
  readonly port: number;
  /** The arguments when listening on `port`; a restart passes the port it had, so peers still find it. */
  readonly args: (port: number) => string[];
};

export type SystemOptions = {
  readonly host: string;
  readonly discoveryPort: number;
  readonly proxyPort: number;
  /** First converter port; replicas take the following ones. 0: any free port each. */
  readonly converterPort: number;
  readonly replicas: number;
  readonly dbPath: string;
  readonly checkInterval: string;
  readonly logLevel: string;
};

export function discoverySpec(o: SystemOptions): ProcessSpec {
  return {
    name: 'discovery',
    role: 'discovery',
    port: o.discoveryPort,
    args: (port) => [String(port), '--host', o.host, '--db', o.dbPath, '--check-interval', o.checkInterval, '--log-level', o.logLevel],
  };
}

export function converterSpecs(o: SystemOptions, discovery: Endpoint): ProcessSpec[] {
  return COURSE_PAIRS.flatMap(([a, b], pairIndex) =>
    Array.from({ length: o.replicas }, (_, replica): ProcessSpec => ({
      name: `converter ${a}:${b} #${replica + 1}`,
      role: 'converter',
      port: o.converterPort === 0 ? 0 : o.converterPort + pairIndex * o.replicas + replica,
      args: (port) => [String(port), '--pair', `${a}:${b}`, '--host', o.host, '--discovery', formatAddress(discovery), '--log-level', o.logLevel],
    })),
  );
}

export function proxySpec(o: SystemOptions, discovery: Endpoint): ProcessSpec {
  return {
    name: 'proxy',
    role: 'proxy',
    port: o.proxyPort,
    args: (port) => [String(port), '--host', o.host, '--discovery', formatAddress(discovery), '--log-level', o.logLevel],
  };
}
