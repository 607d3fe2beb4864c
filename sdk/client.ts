/**
 * A typed client for the node's HTTP API (docs/rpc.md). Every method returns the JSON view the
 * server sends (types from rpc/views.ts, re-exported here); every failure is a `ClientError` whose
 * `code` is the server's error code (`TX_NOT_FOUND`, `CODEC_MALFORMED`, `MEMPOOL_FULL`, …) or one of
 * the client's own: `CLIENT_HTTP` (a reply that is not the API's), `CLIENT_TIMEOUT`,
 * `CLIENT_UNREACHABLE` (no connection), `CLIENT_BAD_ARGUMENT` (an id that is not a u32, refused
 * before any request). Uses the global `fetch` unless given another.
 */
import { ChainError, addressToString, bytesToHex, hexToBytes } from '../lib/index.ts';
import type {
  ContributorsPageJson,
  LicenceCheckJson,
  LicenceReplyJson,
  LicencesPageJson,
  OfferReplyJson,
  OffersPageJson,
  PassportReplyJson,
  PassportVersionReplyJson,
  PassportVersionsPageJson,
  PassportsPageJson,
} from '../rpc/index.ts';
import type {
  AccountJson,
  AnnotatorAssignmentsJson,
  AnnotatorJson,
  AssignmentJson,
  ItemReplyJson,
  ItemsPageJson,
  LabellingParamsJson,
  RoundJson,
  TaskJson,
  BlockJson,
  CommittedTxJson,
  HealthJson,
  StateProofJson,
  StateProofReplyJson,
  StatusJson,
  SubmitTxJson,
  TxStatusJson,
  DelegationsPageJson,
  StakingParamsJson,
  UnbondingsPageJson,
  ValidatorReplyJson,
  ValidatorSetJson,
  ValidatorsPageJson,
} from '../rpc/index.ts';

export type {
  DelegationJson,
  DelegationsPageJson,
  SetMemberJson,
  StakingParamsJson,
  UnbondingEntryJson,
  UnbondingJson,
  UnbondingsPageJson,
  ValidatorJson,
  ValidatorReplyJson,
  ValidatorSetJson,
  ValidatorStatus,
  ValidatorsPageJson,
  AccountJson,
  AnnotatorAssignmentsJson,
  AnnotatorJson,
  AssignmentJson,
  ItemJson,
  ItemReplyJson,
  ItemsPageJson,
  LabellingParamsJson,
  ReputationJson,
  RoundJson,
  RoundPhase,
  SeatAssignmentJson,
  SeatJson,
  TaskJson,
  TaskSpecJson,
  BlockJson,
  CommitJson,
  CommittedTxJson,
  ErrorReply,
  EventJson,
  HeaderJson,
  HealthJson,
  Hex,
  PendingTxJson,
  ReceiptJson,
  StateProofJson,
  StateProofReplyJson,
  StatusJson,
  SubmitTxJson,
  TransferBodyJson,
  TxJson,
  TxStatusJson,
} from '../rpc/index.ts';

export type ClientErrorType = {
  /** The server's error code, or CLIENT_HTTP, CLIENT_TIMEOUT, CLIENT_UNREACHABLE or CLIENT_BAD_ARGUMENT. */
  code: string;
  /** The HTTP status of the reply; null when there was none. */
  httpStatus: number | null;
  url: string;
  /** The server's error details, or the client's. */
  details: Record<string, unknown>;
};
export class ClientError extends ChainError<ClientErrorType> {}

export type TaggerClientOpts = {
  /** The node's RPC base URL, e.g. http://127.0.0.1:26657 */
  url: string;
  fetch?: typeof fetch;
  /** Per-request limit, from sending the request to reading the whole reply. Default 10 s. */
  timeoutMs?: number;
};

export type WaitForTxOpts = {
  /** Give up after this long with CLIENT_TIMEOUT. Default 30 s. */
  timeoutMs?: number;
  /** Time between polls. Default 500 ms. */
  pollMs?: number;
};

export const CLIENT_TIMEOUT_MS_DEFAULT = 10_000;

type Method = 'GET' | 'POST';

export class TaggerClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;

  constructor(opts: TaggerClientOpts) {
    this.base = opts.url.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? globalThis.fetch;
    this.timeoutMs = opts.timeoutMs ?? CLIENT_TIMEOUT_MS_DEFAULT;
  }

  health(): Promise<HealthJson> {
    return this.request('GET', '/health');
  }

  status(): Promise<StatusJson> {
    return this.request('GET', '/status');
  }

  account(address: string | Uint8Array): Promise<AccountJson> {
    return this.request('GET', `/v1/accounts/${addressParam(address)}`);
  }

  block(height: number | 'latest', opts: { full?: boolean } = {}): Promise<BlockJson> {
    const at = height === 'latest' ? 'latest' : String(height);
    return this.request('GET', `/v1/blocks/${at}${fullQuery(opts)}`);
  }

  blockByHash(hash: string | Uint8Array, opts: { full?: boolean } = {}): Promise<BlockJson> {
    return this.request('GET', `/v1/blocks/by-hash/${hexParam(hash)}${fullQuery(opts)}`);
  }

  /** A committed or pending transaction; a ClientError with code TX_NOT_FOUND if neither. */
  tx(hash: string | Uint8Array): Promise<TxStatusJson> {
    return this.request('GET', `/v1/txs/${hexParam(hash)}`);
  }

  /** Submits canonical SignedTx bytes (`signTx(...).bytes`). */
  submitTx(bytes: Uint8Array): Promise<SubmitTxJson> {
    return this.request('POST', '/v1/txs', bytes);
  }

  /** Proof of a raw state key against the latest state root; see `stateProofFromJson`. */
  proveState(key: string | Uint8Array): Promise<StateProofReplyJson> {
    return this.request('GET', `/v1/state/proof?key=${hexParam(key)}`);
  }

  proveAccount(address: string | Uint8Array): Promise<StateProofReplyJson> {
    return this.request('GET', `/v1/state/proof/account/${addressParam(address)}`);
  }

  // ── labelling (docs/rpc.md §Labelling) ─────────────────────────────────────────────────────

  /** Labelling parameters, the chain's fee schedule and the transaction formats' limits. */
  labellingParams(): Promise<LabellingParamsJson> {
    return this.request('GET', '/v1/labelling/params');
  }

  /** A task; a ClientError with code TASK_NOT_FOUND if there is none. */
  async task(id: number): Promise<TaskJson> {
    return this.request('GET', `/v1/tasks/${u32Param(id)}`);
  }

  /** A page of a task's items from index `cursor` (default 0), at most `limit` (default and most 100). */
  async taskItems(id: number, opts: { cursor?: number; limit?: number } = {}): Promise<ItemsPageJson> {
    const query = new URLSearchParams();
    if (opts.cursor !== undefined) query.set('cursor', u32Param(opts.cursor));
    if (opts.limit !== undefined) query.set('limit', u32Param(opts.limit));
    const qs = query.toString();
    return this.request('GET', `/v1/tasks/${u32Param(id)}/items${qs === '' ? '' : `?${qs}`}`);
  }

  /** One item; ITEM_NOT_FOUND past the items added. */
  async taskItem(id: number, index: number): Promise<ItemReplyJson> {
    return this.request('GET', `/v1/tasks/${u32Param(id)}/items/${u32Param(index)}`);
  }

  /** A round of a task; ROUND_NOT_FOUND if it was not created yet. */
  async round(id: number, round: number): Promise<RoundJson> {
    return this.request('GET', `/v1/tasks/${u32Param(id)}/rounds/${u32Param(round)}`);
  }

  /** An annotator's seats in one round; ASSIGNMENT_NOT_FOUND if it holds none there. */
  async assignment(id: number, round: number, address: string | Uint8Array): Promise<AssignmentJson> {
    return this.request('GET', `/v1/tasks/${u32Param(id)}/rounds/${u32Param(round)}/assignments/${addressParam(address)}`);
  }

  /** An annotator, with its reputation for `classes` classes (2 for multi-label tasks); ANNOTATOR_NOT_FOUND if it never staked. */
  async annotator(address: string | Uint8Array, opts: { classes: number }): Promise<AnnotatorJson> {
    return this.request('GET', `/v1/annotators/${addressParam(address)}?classes=${u32Param(opts.classes)}`);
  }

  /**
   * The rounds of task `task` where the annotator holds seats. One call scans at most 256 rounds
   * from `cursor`; follow `nextCursor` until it is null (`allAnnotatorAssignments` does).
   */
  async annotatorAssignments(address: string | Uint8Array, task: number, opts: { cursor?: number } = {}): Promise<AnnotatorAssignmentsJson> {
    const cursor = opts.cursor === undefined ? '' : `&cursor=${u32Param(opts.cursor)}`;
    return this.request('GET', `/v1/annotators/${addressParam(address)}/assignments?task=${u32Param(task)}${cursor}`);
  }

  /** Every page of `annotatorAssignments`, joined (at most `pagesMax` requests, default 64). */
  async allAnnotatorAssignments(address: string | Uint8Array, task: number, opts: { pagesMax?: number } = {}): Promise<AnnotatorAssignmentsJson> {
    let page = await this.annotatorAssignments(address, task);
    const rounds = [...page.rounds];
    for (let i = 1; page.nextCursor !== null && i < (opts.pagesMax ?? 64); i++) {
      page = await this.annotatorAssignments(address, task, { cursor: page.nextCursor });
      rounds.push(...page.rounds);
    }
    return { ...page, rounds };
  }

  // ── passports and licences (docs/rpc.md §Passports) ────────────────────────────────────────

  /** A Data Passport with its newest version; PASSPORT_NOT_FOUND if there is none. */
  passport(id: number): Promise<PassportReplyJson> {
    return this.request('GET', `/v1/passports/${u32Param(id)}`);
  }

  /** One version of a passport; PASSPORT_VERSION_NOT_FOUND if it does not exist. */
  passportVersion(id: number, version: number): Promise<PassportVersionReplyJson> {
    return this.request('GET', `/v1/passports/${u32Param(id)}/versions/${u32Param(version)}`);
  }

  /** A page of a passport's versions from version `cursor` (default 1). */
  passportVersions(id: number, opts: PageOpts = {}): Promise<PassportVersionsPageJson> {
    return this.request('GET', `/v1/passports/${u32Param(id)}/versions${pageQuery(opts)}`);
  }

  /** A page of a version's contributors, best first. */
  passportContributors(id: number, version: number, opts: PageOpts = {}): Promise<ContributorsPageJson> {
    return this.request('GET', `/v1/passports/${u32Param(id)}/versions/${u32Param(version)}/contributors${pageQuery(opts)}`);
  }

  /** A page of the passports an address owns (index positions; follow `nextCursor`). */
  passportsByOwner(owner: string | Uint8Array, opts: PageOpts = {}): Promise<PassportsPageJson> {
    return this.request('GET', `/v1/accounts/${addressParam(owner)}/passports${pageQuery(opts)}`);
  }

  /** A page of the passports built from a task. */
  passportsByTask(task: number, opts: PageOpts = {}): Promise<PassportsPageJson> {
    return this.request('GET', `/v1/tasks/${u32Param(task)}/passports${pageQuery(opts)}`);
  }

  /** A page of a passport's licence offers. */
  passportOffers(id: number, opts: PageOpts = {}): Promise<OffersPageJson> {
    return this.request('GET', `/v1/passports/${u32Param(id)}/offers${pageQuery(opts)}`);
  }

  /** One licence offer; OFFER_NOT_FOUND if there is none. */
  offer(id: number): Promise<OfferReplyJson> {
    return this.request('GET', `/v1/offers/${u32Param(id)}`);
  }

  /** One licence; LICENCE_NOT_FOUND if there is none. */
  licence(id: number): Promise<LicenceReplyJson> {
    return this.request('GET', `/v1/licences/${u32Param(id)}`);
  }

  /** A page of the licences sold for a passport. */
  passportLicences(id: number, opts: PageOpts = {}): Promise<LicencesPageJson> {
    return this.request('GET', `/v1/passports/${u32Param(id)}/licences${pageQuery(opts)}`);
  }

  /** A page of the licences an address holds. */
  licencesByHolder(holder: string | Uint8Array, opts: PageOpts = {}): Promise<LicencesPageJson> {
    return this.request('GET', `/v1/accounts/${addressParam(holder)}/licences${pageQuery(opts)}`);
  }

  /** Whether `holder` holds an active licence for passport `id` at the latest height. */
  licenceCheck(id: number, holder: string | Uint8Array): Promise<LicenceCheckJson> {
    return this.request('GET', `/v1/passports/${u32Param(id)}/licensed/${addressParam(holder)}`);
  }

  // ── staking (docs/rpc.md §Staking) ─────────────────────────────────────────────────────────

  /** Staking parameters, the current epoch, the reward pool's address and the fee schedule. */
  stakingParams(): Promise<StakingParamsJson> {
    return this.request('GET', '/v1/staking/params');
  }

  /** A page of the validator registry from index `cursor` (default 0), at most `limit` (default and most 100). */
  async validators(opts: PageOpts = {}): Promise<ValidatorsPageJson> {
    return this.request('GET', `/v1/validators${pageQuery(opts)}`);
  }

  /** Every registered validator, following `nextCursor` (at most `pagesMax` requests, default 100). */
  async allValidators(opts: { pagesMax?: number } = {}): Promise<ValidatorsPageJson> {
    let page = await this.validators();
    const validators = [...page.validators];
    for (let i = 1; page.nextCursor !== null && i < (opts.pagesMax ?? 100); i++) {
      page = await this.validators({ cursor: page.nextCursor });
      validators.push(...page.validators);
    }
    return { ...page, validators };
  }

  /** A validator by operator or consensus address; VALIDATOR_NOT_FOUND if neither names one. */
  async validator(address: string | Uint8Array): Promise<ValidatorReplyJson> {
    return this.request('GET', `/v1/validators/${addressParam(address)}`);
  }

  /** The set that validated the latest block (and its header hash), and the set for the next block. */
  validatorSet(): Promise<ValidatorSetJson> {
    return this.request('GET', '/v1/validator-set');
  }

  /**
   * A page of an account's delegations with their worth and pending rewards. One call looks at
   * most 1,000 validators from `cursor`: follow `nextCursor` until it is null.
   */
  async delegations(address: string | Uint8Array, opts: PageOpts = {}): Promise<DelegationsPageJson> {
    return this.request('GET', `/v1/accounts/${addressParam(address)}/delegations${pageQuery(opts)}`);
  }

  /** A page of an account's unbonding entries, by validator; paged like `delegations`. */
  async unbondings(address: string | Uint8Array, opts: PageOpts = {}): Promise<UnbondingsPageJson> {
    return this.request('GET', `/v1/accounts/${addressParam(address)}/unbondings${pageQuery(opts)}`);
  }

  /** The API's OpenAPI document. */
  openApi(): Promise<Record<string, unknown>> {
    return this.request('GET', '/openapi.json');
  }

  /**
   * Polls until the transaction is committed and returns it with its receipt (which may say
   * 'failed'). A transaction not found yet is polled for too: it may still reach this node.
   */
  async waitForTx(hash: string | Uint8Array, opts: WaitForTxOpts = {}): Promise<CommittedTxJson> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const pollMs = Math.max(1, opts.pollMs ?? 500);
    const deadline = Date.now() + timeoutMs;
    let last = 'not found';
    for (;;) {
      try {
        const found = await this.tx(hash);
        if (found.status === 'committed') return found;
        last = found.status;
      } catch (e: unknown) {
        if (!(e instanceof ClientError && e.code === 'TX_NOT_FOUND')) throw e;
        last = 'not found';
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const url = `${this.base}/v1/txs/${hexParam(hash)}`;
        throw new ClientError(
          { code: 'CLIENT_TIMEOUT', httpStatus: null, url, details: { timeoutMs, lastStatus: last } },
          `transaction not committed after ${timeoutMs} ms (last seen: ${last})`,
        );
      }
      await sleep(Math.min(pollMs, left));
    }
  }

  protected async request<T>(method: Method, path: string, body?: Uint8Array): Promise<T> {
    const url = this.base + path;
    // A timer of our own rather than AbortSignal.timeout, whose timer does not keep the process
    // alive: a request must end in a reply or an error, never in a silent exit.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    const init: RequestInit = {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/octet-stream' },
      signal: abort.signal,
    };
    if (body !== undefined) init.body = body;
    let status: number;
    let text: string;
    try {
      const res = await this.fetchFn(url, init);
      status = res.status;
      text = await res.text();
    } catch (e: unknown) {
      throw this.transportError(e, url, abort.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
    const json = parseJson(text);
    if (status >= 200 && status < 300 && json !== undefined) return json as T;
    const served = errorBody(json);
    if (served !== undefined) {
      throw new ClientError({ code: served.code, httpStatus: status, url, details: served.details }, served.message);
    }
    throw new ClientError(
      { code: 'CLIENT_HTTP', httpStatus: status, url, details: { body: text.slice(0, 200) } },
      `unexpected reply from ${url}: HTTP ${status}`,
    );
  }

  private transportError(e: unknown, url: string, timedOut: boolean): ClientError {
    if (timedOut) {
      return new ClientError(
        { code: 'CLIENT_TIMEOUT', httpStatus: null, url, details: { timeoutMs: this.timeoutMs } },
        `no reply from ${url} within ${this.timeoutMs} ms`,
      );
    }
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : '';
    const reason = e instanceof Error ? `${e.message}${cause === '' ? '' : `: ${cause}`}` : String(e);
    return new ClientError({ code: 'CLIENT_UNREACHABLE', httpStatus: null, url, details: { reason } }, `cannot reach ${url}: ${reason}`);
  }
}

/**
 * A proof as bytes, the shape state/smt.ts `verifyStateProof(root, proof)` checks, so that a
 * client can verify what the node served: `verifyStateProof(hexToBytes(r.stateRoot),
 * stateProofFromJson(r.proof))`.
 */
export function stateProofFromJson(p: StateProofJson): {
  key: Uint8Array;
  value: Uint8Array | null;
  siblings: Uint8Array[];
  leaf: { keyHash: Uint8Array; valueHash: Uint8Array } | null;
} {
  return {
    key: hexToBytes(p.key),
    value: p.value === null ? null : hexToBytes(p.value),
    siblings: p.siblings.map(hexToBytes),
    leaf: p.leaf === null ? null : { keyHash: hexToBytes(p.leaf.keyHash), valueHash: hexToBytes(p.leaf.valueHash) },
  };
}

function hexParam(value: string | Uint8Array): string {
  return typeof value === 'string' ? encodeURIComponent(value) : '0x' + bytesToHex(value);
}

function u32Param(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new ClientError({ code: 'CLIENT_BAD_ARGUMENT', httpStatus: null, url: '', details: { value: String(n) } }, `not a u32: ${n}`);
  }
  return String(n);
}

function addressParam(value: string | Uint8Array): string {
  return typeof value === 'string' ? encodeURIComponent(value) : addressToString(value);
}

/** A page of a registry-ordered listing: start at registry index `cursor`, at most `limit` entries. */
export type PageOpts = { cursor?: number; limit?: number };

function pageQuery(opts: PageOpts): string {
  const query = new URLSearchParams();
  if (opts.cursor !== undefined) query.set('cursor', u32Param(opts.cursor));
  if (opts.limit !== undefined) query.set('limit', u32Param(opts.limit));
  const qs = query.toString();
  return qs === '' ? '' : `?${qs}`;
}

function fullQuery(opts: { full?: boolean }): string {
  return opts.full === true ? '?full=true' : '';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorBody(json: unknown): { code: string; message: string; details: Record<string, unknown> } | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined;
  const error: unknown = json.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof code !== 'string' || code === '') return undefined;
  return {
    code,
    message: typeof message === 'string' ? message : code,
    details: typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {},
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
