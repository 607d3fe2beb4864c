/** The logging surface the core depends on; pino's Logger satisfies it. */
export type LogFn = (obj: Record<string, unknown> | string, msg?: string) => void;
export type Logger = {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
};

/** A logger that drops everything, for tests and tools. */
export const nullLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => nullLogger,
};
