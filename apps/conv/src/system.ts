import type { Endpoint } from '@conv/protocol';
import { formatAddress } from '@conv/protocol';

/** The eleven pairs of the course (docs/protocol.md and the root README); gK is grams of potassium. */
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

export type CoursePair = (typeof COURSE_PAIRS)[number];

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
  /** The pairs to run converters for (default: all of COURSE_PAIRS); ports follow this order. */
  readonly pairs?: readonly (readonly [string, string])[];
  readonly dbPath: string;
  readonly checkInterval: string;
  readonly logLevel: string;
  /** `etcd://...`: every discovery replica shares this registry instead of the file `dbPath`. */
  readonly store?: string | undefined;
  /** Discovery replicas (on etcd): ports discoveryPort, discoveryPort + 2, ... (the proxy has + 1). */
  readonly discoveryReplicas?: number;
  /** Operator HTTP ports (--http-port of each app: metrics, health, status page); absent = off. */
  readonly httpPorts?: {
    /** The first discovery's; replicas take + 2, + 4, ... like their protocol ports. */
    readonly discovery: number;
    readonly proxy: number;
    /** First converter's; replicas take the following ones, like `converterPort`. 0: any free port each. */
    readonly converter: number;
  };
};

const httpFlag = (port: number | undefined): string[] => (port === undefined ? [] : ['--http-port', String(port)]);
const nthPort = (first: number, offset: number): number => (first === 0 ? 0 : first + offset);

/** The operator (status page) port of discovery replica `replica`, or undefined when off. */
export function discoveryHttpPort(o: SystemOptions, replica = 0): number | undefined {
  if (o.httpPorts === undefined) return undefined;
  return replica === 0 ? o.httpPorts.discovery : nthPort(o.httpPorts.discovery, 2 * replica);
}

export function discoverySpec(o: SystemOptions, replica = 0): ProcessSpec {
  const registry = o.store === undefined ? ['--db', o.dbPath] : ['--store', o.store];
  return {
    name: replica === 0 ? 'discovery' : `discovery #${replica + 1}`,
    role: 'discovery',
    port: o.discoveryPort === 0 ? 0 : o.discoveryPort + 2 * replica,
    args: (port) => [
      String(port), '--host', o.host, ...registry, '--check-interval', o.checkInterval, '--log-level', o.logLevel,
      ...httpFlag(discoveryHttpPort(o, replica)),
    ],
  };
}

/** Every discovery replica of the plan (one, unless the registry is shared in etcd). */
export function discoverySpecs(o: SystemOptions): ProcessSpec[] {
  const count = o.store === undefined ? 1 : (o.discoveryReplicas ?? 1);
  return Array.from({ length: count }, (_, replica) => discoverySpec(o, replica));
}

/** `--discovery` for converters and the proxy: one address, or the replicas' list. */
function discoveryFlag(discovery: Endpoint | readonly Endpoint[]): string {
  return (Array.isArray(discovery) ? (discovery as readonly Endpoint[]) : [discovery as Endpoint]).map(formatAddress).join(',');
}

export function converterSpecs(o: SystemOptions, discovery: Endpoint | readonly Endpoint[]): ProcessSpec[] {
  return (o.pairs ?? COURSE_PAIRS).flatMap(([a, b], pairIndex) =>
    Array.from({ length: o.replicas }, (_, replica): ProcessSpec => ({
      name: `converter ${a}:${b} #${replica + 1}`,
      role: 'converter',
      port: o.converterPort === 0 ? 0 : o.converterPort + pairIndex * o.replicas + replica,
      args: (port) => [
        String(port), '--pair', `${a}:${b}`, '--host', o.host, '--discovery', discoveryFlag(discovery), '--log-level', o.logLevel,
        ...httpFlag(o.httpPorts === undefined ? undefined : nthPort(o.httpPorts.converter, pairIndex * o.replicas + replica)),
      ],
    })),
  );
}

export function proxySpec(o: SystemOptions, discovery: Endpoint | readonly Endpoint[]): ProcessSpec {
  return {
    name: 'proxy',
    role: 'proxy',
    port: o.proxyPort,
    args: (port) => [String(port), '--host', o.host, '--discovery', discoveryFlag(discovery), '--log-level', o.logLevel, ...httpFlag(o.httpPorts?.proxy)],
  };
}
