/** The socket's remote address as servers compare it: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) written as IPv4. */
export function normalizePeerAddress(address: string | undefined): string {
  if (address === undefined) return '';
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice('::ffff:'.length) : lower;
}

export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}
