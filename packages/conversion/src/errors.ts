/**
 * Every way the catalog refuses a request, in one table: a stable code and what it means.
 * Callers match on `code`, never on message text. Codes are never renamed or reused.
 */
export const CONVERSION_ERROR_CODES = {
  UNKNOWN_UNIT: 'The unit is neither a symbol nor an alias in the catalog.',
  INCOMPATIBLE_UNITS:
    'The units measure different kinds of quantity and no banana fact bridges those kinds.',
  INVALID_FACTS: 'The banana facts given to createCatalog failed validation.',
  INVALID_AMOUNT: 'The amount to convert is NaN or infinite.',
  OUT_OF_RANGE: 'The converted amount is too large to represent as a double.',
} as const;

export type ConversionErrorCode = keyof typeof CONVERSION_ERROR_CODES;

export class ConversionError extends Error {
  override readonly name = 'ConversionError';
  readonly code: ConversionErrorCode;

  constructor(code: ConversionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
