/**
 * Typed errors. Every expected failure carries a machine-readable `code` (prefixed by its domain and
 * never reused) plus typed metadata, after Lodestar's `LodestarError<{code}>`. Broken invariants are
 * not ChainErrors: they are `AssertionError`s from `assert()` and halt the node.
 */
export class ChainError<T extends { code: string }> extends Error {
  readonly type: T;

  constructor(type: T, message?: string) {
    super(message ?? type.code);
    this.type = type;
    this.name = new.target.name;
  }

  get code(): T['code'] {
    return this.type.code;
  }

  /** Metadata safe to log or to return to a client. */
  toJSON(): { code: string; message: string; details: Omit<T, 'code'> } {
    const { code, ...details } = this.type;
    return { code, message: this.message, details };
  }
}

/** True for any ChainError, whatever its domain. */
export function isChainError(e: unknown): e is ChainError<{ code: string }> {
  return e instanceof ChainError;
}
