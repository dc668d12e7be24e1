import { type Failure, failure } from '@conv/protocol';
import { type EndpointRegistry, unitPair } from '@conv/registry';

/** LOOKUP of a pair with no `up` endpoint: UNKNOWN_PAIR, saying how many are registered and why none is handed out. */
export function unknownPair(registry: EndpointRegistry, units: readonly [string, string]): Failure {
  const [a, b] = units[0] < units[1] ? units : [units[1], units[0]];
  const detail = `No healthy server converts ${a} <-> ${b}`;
  if (a === b) return failure('UNKNOWN_PAIR', `${detail}.`);
  const members = registry.pool(unitPair(a, b)).endpoints();
  if (members.length === 0) return failure('UNKNOWN_PAIR', `${detail}.`);
  let pending = 0;
  let down = 0;
  for (const endpoint of members) {
    const health = registry.find(endpoint)?.health;
    if (health === 'pending') pending++;
    else if (health === 'down') down++;
  }
  return failure('UNKNOWN_PAIR', `${detail}; ${members.length} registered: ${pending} pending a check, ${down} down.`);
}