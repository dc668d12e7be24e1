import { catalog, convert, createCatalog, PathFinder } from '@conv/conversion';

// The course's four questions, answered exactly and rounded once.
console.log(convert(45.6, 'lbs', 'kg')); // How many kilograms is 45.6 pounds?
console.log(convert(150, 'bananas', 'feet')); // 150 bananas laid end to end, in feet
console.log(convert(43, 'gK', 'yen')); // yen for enough bananas to get 43 g of potassium
console.log(convert(56.34, '$', 'cm')); // $56.34 of bananas laid end to end, in cm
console.log(catalog.exact('$', 'cm').kinds.join(' -> '));

// A converter for a pair nobody gave a factor for, and facts overridden by configuration.
const bananasToCm = catalog.converter('b', 'cm');
console.log(bananasToCm(1));
console.log(createCatalog({ facts: { bananaPriceUsdPerPound: '0.25' } }).convert(1, 'lbs', '$'));

// Path search over whatever pairs servers registered.
const registry = { version: 1, pairs: () => [['ft', 'in'], ['in', 'cm'], ['b', 'in'], ['lbs', 'b']] as const };
const finder = new PathFinder(registry);
const path = finder.findPath('lbs', 'cm');
console.log(path.ok ? path.hops.map((hop) => `${hop.from}->${hop.to}`).join(' ') : path.reason);
