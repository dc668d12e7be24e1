/**
 * Quotes input for a failure or error sentence: escaped (control characters become visible
 * escapes, so the text stays one line) and cut to `max` characters, so a hostile input can
 * neither break a reply in two nor flood a log. Strings are quoted as typed; other values as JSON.
 */
export function quote(input: unknown, max = 40): string {
  if (typeof input === 'string') {
    const chars = Array.from(input);
    return JSON.stringify(chars.length > max ? `${chars.slice(0, max).join('')}...` : input);
  }
  let text: string;
  try {
    text = JSON.stringify(input) ?? String(input);
  } catch {
    text = String(input);
  }
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
