import { defineErrors } from '@conv/server';

/**
 * Every way the converter refuses to start, in one table: a stable code, what it means and the
 * exit code. Callers match on `code`, never on message text.
 */
export const CONVERTER_ERRORS = {
  USAGE: { meaning: 'A flag or argument is missing or malformed.', exit: 2 },
  UNDERIVABLE_PAIR: { meaning: 'The catalog cannot derive the pair and no --factor was given.', exit: 2 },
} as const;

export class ConverterError extends defineErrors('ConverterError', CONVERTER_ERRORS) {}
