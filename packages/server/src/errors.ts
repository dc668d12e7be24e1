/**
 * One shape for every app's errors: a package declares its codes as a table (what each means
 * and the exit code a process ends with), and gets a class whose instances carry a stable
 * `code`. Callers match on `code`, never on message text; `runServer` reads `exitCode`.
 */
export type ErrorTable = Readonly<Record<string, { readonly meaning: string; readonly exit: 1 | 2 }>>;

/** What `runServer` and the CLIs know of any error made by a class from `defineErrors`. */
export interface CodedError extends Error {
  readonly code: string;
  /** 2: the person typed something wrong; 1: it could not run. */
  readonly exitCode: 1 | 2;
}

export function defineErrors<const T extends ErrorTable>(name: string, table: T) {
  return class extends Error implements CodedError {
    static readonly codes: T = table;
    override readonly name = name;
    readonly code: keyof T & string;

    constructor(code: keyof T & string, message: string, options?: { cause?: unknown }) {
      super(message, options);
      this.code = code;
    }

    get exitCode(): 1 | 2 {
      return table[this.code]?.exit ?? 1;
    }
  };
}

export function isCodedError(error: unknown): error is CodedError {
  return error instanceof Error && typeof (error as Partial<CodedError>).code === 'string' && typeof (error as Partial<CodedError>).exitCode === 'number';
}

/** This package's own codes. Apps see LISTEN_FAILED and USAGE unchanged at their edge. */
export const SERVER_ERRORS = {
  USAGE: { meaning: 'A flag or argument on the command line is wrong.', exit: 2 },
  LISTEN_FAILED: { meaning: 'A port could not be listened on (in use, not an address of this machine, no permission).', exit: 1 },
  DISCOVERY_UNREACHABLE: { meaning: 'No discovery server could be reached: refused, reset, or no connection in time.', exit: 1 },
  DISCOVERY_SILENT: { meaning: 'A discovery server took the request but gave no reply before it closed or the deadline passed.', exit: 1 },
} as const;

export class ServerError extends defineErrors('ServerError', SERVER_ERRORS) {}

/** The sentence for a failed `listen`, naming the address: `127.0.0.1:5555 is already in use`. */
export function listenFailure(error: NodeJS.ErrnoException, where: string, host: string): string {
  if (error.code === 'EADDRINUSE') return `${where} is already in use`;
  if (error.code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`;
  if (error.code === 'EACCES') return `no permission to listen on ${where} (ports below 1024 need privileges)`;
  return `${where}: ${error.message}`;
}
