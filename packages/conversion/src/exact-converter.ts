import { add, fromDouble, mul, type Rational, rational, toDouble } from './rational';

/**
 * Compiles `x -> x * scale + offset` (exact rationals) into a function on doubles whose every
 * answer is the exact result rounded once to the nearest double (ties to even).
 *
 * The BigInt work happens here, once per pair. Per call, one of three kernels runs:
 *
 * 1. `scale` is itself a double and there is no offset (ft->in is 12, b->in is 7.4375):
 *    `x * k` is one IEEE multiplication, which is the exact product rounded once.
 * 2. `1/scale` is a double and there is no offset (in->ft, g->kg): `x / k`, likewise.
 * 3. Otherwise the result is `(x*P + U) / D` with integers P, U, D that are doubles. We form
 *    `x*P + U` without error as a sum of doubles (Dekker's product, Knuth's sum), divide, and
 *    compute the exact remainder to get a correction `c`, so that `y + c` is within 2^-100|y|
 *    of the true quotient. If `y + (c - e)` and `y + (c + e)` round to the same double for a
 *    margin e = 2^-90|y| that is far larger than that error, rounding is monotonic, so the
 *    true quotient rounds to that double as well. Only when the quotient lies within 2^-90
 *    relative of a rounding midpoint (about one call in 2^37 for arbitrary inputs, or an exact
 *    tie) do we fall back to BigInt arithmetic. Inputs or results so large or small that the
 *    error-free transformations could overflow or underflow take the BigInt path too.
 *
 * Kernels 1 and 2 are a special case of the argument in 3 but cost a single operation.
 */
export function compileExact(scale: Rational, offset: Rational): (x: number) => number {
  const exact = (x: number): number => toDouble(add(mul(fromDouble(x), scale), offset)) + 0;
  const noOffset = offset.num === 0n;

  if (noOffset) {
    const k = toDouble(scale);
    if (Number.isFinite(k) && k !== 0 && sameValue(scale, k)) return (x) => x * k + 0;
    const inverse = rational(scale.den, scale.num);
    const m = toDouble(inverse);
    if (Number.isFinite(m) && m !== 0 && sameValue(inverse, m)) return (x) => x / m + 0;
  }

  // x*sn/sd + on/od = (x*P + U) / D with D = lcm(sd, od).
  const d = lcm(scale.den, offset.den);
  const bigP = scale.num * (d / scale.den);
  const bigU = offset.num * (d / offset.den);
  if (!isDouble(bigP) || !isDouble(bigU) || !isDouble(d)) return exact;
  const P = Number(bigP);
  const U = Number(bigU);
  const D = Number(d);
  const [pHi, pLo] = split(P);
  const [dHi, dLo] = split(D);

  return (x: number): number => {
    if (!(Math.abs(x) < LARGE)) return exact(x);
    // h + l = x * P exactly (Dekker).
    const h = x * P;
    let t = SPLITTER * x;
    const xHi = t - (t - x);
    const xLo = x - xHi;
    const l = xHi * pHi - h + xHi * pLo + xLo * pHi + xLo * pLo;
    if (h !== 0 && !(Math.abs(h) > SMALL)) return exact(x);
    // s + se = h + U exactly (Knuth).
    const s = h + U;
    let bv = s - h;
    const se = h - (s - bv) + (U - bv);
    // w = se + l, exact unless both are nonzero at distant scales.
    const w = se + l;
    bv = w - se;
    const we = se - (w - bv) + (l - bv);
    // When inexact, w's error is below 2^-103 |s| provided s did not cancel against h.
    if (we !== 0 && !(Math.abs(s) >= Math.abs(h) * 0.25)) return exact(x);
    // Renormalize to s2 + w2 with |w2| <= ulp(s2)/2.
    const s2 = s + w;
    bv = s2 - s;
    const w2 = s - (s2 - bv) + (w - bv);
    if (s2 === 0) return 0;
    const y = s2 / D;
    if (!(Math.abs(y) > SMALL && Math.abs(y) < LARGE)) return exact(x);
    // ph + pl = y * D exactly; s2 - ph is exact by Sterbenz's lemma (ph is within 2 ulps of s2).
    const ph = y * D;
    t = SPLITTER * y;
    const yHi = t - (t - y);
    const yLo = y - yHi;
    const pl = yHi * dHi - ph + yHi * dLo + yLo * dHi + yLo * dLo;
    const r = s2 - ph - pl + w2;
    const c = r / D;
    const e = Math.abs(y) * MARGIN;
    const low = y + (c - e);
    const high = y + (c + e);
    return low === high ? low + 0 : exact(x);
  };
}

const SPLITTER = 134217729; // 2^27 + 1, Veltkamp's splitting constant for doubles
const LARGE = 2 ** 900; // far enough from overflow for the splits and products above
const SMALL = 2 ** -900; // far enough from underflow for the product error terms
const MARGIN = 2 ** -90;

function split(a: number): [number, number] {
  const t = SPLITTER * a;
  const hi = t - (t - a);
  return [hi, a - hi];
}

function isDouble(n: bigint): boolean {
  const x = Number(n);
  return Number.isFinite(x) && BigInt(x) === n;
}

function sameValue(r: Rational, x: number): boolean {
  const back = fromDouble(x);
  return back.num === r.num && back.den === r.den;
}

function lcm(a: bigint, b: bigint): bigint {
  let x = a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return (a / x) * b;
}
