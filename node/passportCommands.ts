/**
 * The CLI's passport and licence commands (docs/cli.md §Passports): `tagger passport …` and
 * `tagger licence …`. Transactions are built with sdk/passport.ts and sent like the labelling
 * commands (sdk `sendTx`, the keyring and its password flags); queries go through TaggerClient.
 * Every command prints one JSON object; a transaction whose receipt failed is an error with the
 * receipt's code (e.g. OFFER_EXPIRED) and a non-zero exit.
 */
import { readFile, stat } from 'node:fs/promises';
import { ChainError, U32_MAX, addressFromString, addressToString, hexToBytes, parseTag, sha256, utf8ToBytes } from '../lib/index.ts';
import {
  TaggerClient,
  buildLicenceBuy,
  buildLicenceOffer,
  buildLicenceRevoke,
  buildLicenceTransfer,
  buildLicenceWithdraw,
  buildPassportCreate,
  buildPassportRegister,
  buildPassportTransfer,
  buildPassportVersion,
  offerTermsFrom,
  passportMaxFee,
  passportSpecFrom,
  type CommittedTxJson,
  type FeeSchedule,
  type PassportBody,
  type PassportSpec,
  type PassportSpecInput,
} from '../sdk/index.ts';
import { sendCommitted, type CliContext } from './labellingCommands.ts';

/** Flags of the passport commands, added to the CLI's option table by main.ts. */
export const PASSPORT_OPTIONS = {
  root: { type: 'string' },
  records: { type: 'string' },
  price: { type: 'string' },
  kind: { type: 'string' },
  uses: { type: 'string' },
  duration: { type: 'string' },
  'expires-at': { type: 'string' },
  'max-sales': { type: 'string' },
  'max-price': { type: 'string' },
  transferable: { type: 'boolean' },
  irrevocable: { type: 'boolean' },
  offer: { type: 'string' },
  licence: { type: 'string' },
  reason: { type: 'string' },
} as const;

export type PassportFlags = {
  [K in keyof typeof PASSPORT_OPTIONS]?: (typeof PASSPORT_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
} & {
  from?: string;
  to?: string;
  'max-fee'?: string;
  spec?: string;
  task?: string;
  passport?: string;
  version?: string;
  cursor?: string;
  limit?: string;
};

export type PassportCliErrorType = { code: 'CLI_BAD_FILE'; path: string; reason: string };
export class PassportCliError extends ChainError<PassportCliErrorType> {}

const SPEC_FILE_BYTES_MAX = 64 * 1024;

function u32Flag(ctx: CliContext, name: string, value: string | undefined): number {
  if (value === undefined) throw ctx.usage(`--${name} is required`);
  if (!/^(0|[1-9][0-9]{0,9})$/.test(value) || Number(value) > U32_MAX) throw ctx.usage(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

function optU32(ctx: CliContext, name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : u32Flag(ctx, name, value);
}

function pageOpts(ctx: CliContext, flags: PassportFlags): { cursor?: number; limit?: number } {
  const cursor = optU32(ctx, 'cursor', flags.cursor);
  const limit = optU32(ctx, 'limit', flags.limit);
  return { ...(cursor === undefined ? {} : { cursor }), ...(limit === undefined ? {} : { limit }) };
}

function hash32(ctx: CliContext, name: string, value: string | undefined): Uint8Array {
  if (value === undefined) throw ctx.usage(`--${name} HEX (32 bytes) is required`);
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(value)) throw ctx.usage(`--${name} must be 32 bytes of hex`);
  return hexToBytes(value);
}

function badFile(path: string, reason: string): PassportCliError {
  return new PassportCliError({ code: 'CLI_BAD_FILE', path, reason }, `${path}: ${reason}`);
}

/**
 * A passport spec from a JSON file: `{ schema, consentBasis, consentAttester?, consentDocumentHash?,
 * kind?, uses?, transferable?, contributorsPercent?, method?, methodVersion?, paramsHash?, metadata? }`.
 */
async function readSpec(ctx: CliContext, path: string | undefined): Promise<PassportSpec> {
  if (path === undefined) throw ctx.usage('--spec FILE.json is required');
  const info = await stat(path).catch(() => null);
  if (info === null || !info.isFile()) throw badFile(path, 'no such file');
  if (info.size > SPEC_FILE_BYTES_MAX) throw badFile(path, `larger than ${SPEC_FILE_BYTES_MAX} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (e: unknown) {
    throw badFile(path, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badFile(path, 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw badFile(path, `"${k}" must be a string`);
    return v;
  };
  const schema = str('schema');
  const consentBasis = str('consentBasis');
  if (schema === undefined || consentBasis === undefined) throw badFile(path, '"schema" and "consentBasis" are required');
  const input: PassportSpecInput = { schema, consentBasis };
  const attester = str('consentAttester');
  if (attester !== undefined) input.consentAttester = addressFromString(attester);
  // A document hash as hex, or the consent document's text (hashed with SHA-256).
  const doc = str('consentDocumentHash');
  const docText = str('consentDocument');
  if (doc !== undefined) input.consentDocumentHash = hexToBytes(doc);
  else if (docText !== undefined) input.consentDocumentHash = sha256(utf8ToBytes(docText));
  const kind = str('kind');
  if (kind !== undefined) input.kind = kind;
  if (o['uses'] !== undefined) {
    if (!Array.isArray(o['uses']) || !o['uses'].every((u) => typeof u === 'string')) throw badFile(path, '"uses" must be an array of names');
    input.uses = o['uses'];
  }
  if (o['transferable'] !== undefined) {
    if (typeof o['transferable'] !== 'boolean') throw badFile(path, '"transferable" must be true or false');
    input.transferable = o['transferable'];
  }
  if (o['contributorsPercent'] !== undefined) {
    if (typeof o['contributorsPercent'] !== 'number') throw badFile(path, '"contributorsPercent" must be a number');
    input.contributorsPercent = o['contributorsPercent'];
  }
  const method = str('method');
  if (method !== undefined) input.method = method;
  const methodVersion = str('methodVersion');
  if (methodVersion !== undefined) input.methodVersion = methodVersion;
  const paramsHash = str('paramsHash');
  if (paramsHash !== undefined) input.paramsHash = hexToBytes(paramsHash);
  const metadata = str('metadata');
  if (metadata !== undefined) input.metadata = metadata;
  return passportSpecFrom(input);
}

type Session = { client: TaggerClient; chainId: string; fees: FeeSchedule };

async function session(ctx: CliContext): Promise<Session> {
  const client = new TaggerClient({ url: await ctx.nodeUrl() });
  const [status, params] = await Promise.all([client.status(), client.labellingParams()]);
  const fees = { baseFee: BigInt(params.fees.baseFee), perByteFee: BigInt(params.fees.perByteFee), txBytesMax: params.fees.txBytesMax };
  return { client, chainId: status.chainId, fees };
}

/** Signs, sends and waits for one passport transaction; a failed receipt is a TxFailedError. */
async function send(ctx: CliContext, flags: PassportFlags, body: PassportBody): Promise<CommittedTxJson> {
  if (flags.from === undefined) throw ctx.usage('--from NAME (a keyring key) is required');
  const s = await session(ctx);
  const secretKey = await ctx.unlock(flags.from);
  const maxFee = flags['max-fee'] === undefined ? passportMaxFee(s.chainId, body, s.fees) : parseTag(flags['max-fee']);
  return sendCommitted(s.client, secretKey, body, maxFee);
}

/** Prints the transaction's summary and its first event's attributes. */
function report(ctx: CliContext, tx: CommittedTxJson, event: string): void {
  const attrs = tx.receipt.events.find((e) => e.type === event)?.attributes ?? {};
  ctx.print({ hash: tx.hash, height: tx.height, fee: tx.receipt.fee, [event]: attrs });
}

async function addressArg(ctx: CliContext, flags: PassportFlags, positional: string | undefined): Promise<string> {
  if (positional !== undefined) return addressToString(addressFromString(positional));
  if (flags.from !== undefined) return (await ctx.keyInfo(flags.from)).address;
  throw ctx.usage('give an ADDRESS or --from NAME');
}

function toFlag(ctx: CliContext, flags: PassportFlags): Uint8Array {
  if (flags.to === undefined) throw ctx.usage('--to ADDRESS is required');
  return addressFromString(flags.to);
}

async function offer(ctx: CliContext, flags: PassportFlags): Promise<void> {
  if (flags.price === undefined) throw ctx.usage('--price TAG is required');
  const terms = offerTermsFrom({
    price: flags.price,
    ...(flags.kind === undefined ? {} : { kind: flags.kind }),
    ...(flags.uses === undefined ? {} : { uses: flags.uses.split(',').map((u) => u.trim()) }),
    ...(flags.duration === undefined ? {} : { durationBlocks: u32Flag(ctx, 'duration', flags.duration) }),
    ...(flags['expires-at'] === undefined ? {} : { expiresAt: u32Flag(ctx, 'expires-at', flags['expires-at']) }),
    ...(flags['max-sales'] === undefined ? {} : { maxSales: u32Flag(ctx, 'max-sales', flags['max-sales']) }),
    transferable: flags.transferable === true,
    revocable: flags.irrevocable !== true,
  });
  report(ctx, await send(ctx, flags, buildLicenceOffer(u32Flag(ctx, 'passport', flags.passport), terms)), 'licence_offered');
}

async function buy(ctx: CliContext, flags: PassportFlags): Promise<void> {
  const id = u32Flag(ctx, 'offer', flags.offer);
  // Without --max-price, the offer's current price (read now) is the most the buyer pays.
  const maxPrice = flags['max-price'] === undefined ? BigInt((await new TaggerClient({ url: await ctx.nodeUrl() }).offer(id)).price) : parseTag(flags['max-price']);
  report(ctx, await send(ctx, flags, buildLicenceBuy(id, maxPrice)), 'licence_bought');
}

function reasonOf(ctx: CliContext, flags: PassportFlags): Uint8Array {
  if (flags.reason === undefined) return new Uint8Array(32);
  // A 32-byte hex hash as given, or any text, hashed.
  return /^(0x)?[0-9a-fA-F]{64}$/.test(flags.reason) ? hash32(ctx, 'reason', flags.reason) : sha256(utf8ToBytes(flags.reason));
}

/** `tagger passport create|register|version|transfer|offer|buy|revoke|show|list`. */
export async function cmdPassport(ctx: CliContext, args: string[], flags: PassportFlags): Promise<void> {
  const [sub, arg] = args;
  switch (sub ?? '') {
    case 'create': {
      const body = buildPassportCreate(u32Flag(ctx, 'task', flags.task), await readSpec(ctx, flags.spec));
      return report(ctx, await send(ctx, flags, body), 'passport_created');
    }
    case 'register': {
      const body = buildPassportRegister(hash32(ctx, 'root', flags.root), u32Flag(ctx, 'records', flags.records), await readSpec(ctx, flags.spec));
      return report(ctx, await send(ctx, flags, body), 'passport_created');
    }
    case 'version': {
      const id = u32Flag(ctx, 'passport', flags.passport);
      const source = flags.task !== undefined ? { task: u32Flag(ctx, 'task', flags.task) } : { contentRoot: hash32(ctx, 'root', flags.root), recordCount: u32Flag(ctx, 'records', flags.records) };
      return report(ctx, await send(ctx, flags, buildPassportVersion(id, source, await readSpec(ctx, flags.spec))), 'passport_versioned');
    }
    case 'transfer':
      return report(ctx, await send(ctx, flags, buildPassportTransfer(u32Flag(ctx, 'passport', flags.passport), toFlag(ctx, flags))), 'passport_transferred');
    case 'offer':
      return offer(ctx, flags);
    case 'buy':
      return buy(ctx, flags);
    case 'revoke':
      return report(ctx, await send(ctx, flags, buildLicenceRevoke(u32Flag(ctx, 'licence', flags.licence), reasonOf(ctx, flags))), 'licence_revoked');
    case 'show': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      const id = u32Flag(ctx, 'passport', flags.passport);
      if (flags.version === undefined) return ctx.print(await client.passport(id));
      const version = u32Flag(ctx, 'version', flags.version);
      const [v, contributors] = await Promise.all([client.passportVersion(id, version), client.passportContributors(id, version, pageOpts(ctx, flags))]);
      return ctx.print({ ...v, contributors });
    }
    case 'versions': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      return ctx.print(await client.passportVersions(u32Flag(ctx, 'passport', flags.passport), pageOpts(ctx, flags)));
    }
    case 'list': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      if (flags.task !== undefined) return ctx.print(await client.passportsByTask(u32Flag(ctx, 'task', flags.task), pageOpts(ctx, flags)));
      return ctx.print(await client.passportsByOwner(await addressArg(ctx, flags, arg), pageOpts(ctx, flags)));
    }
    default:
      throw ctx.usage(`unknown passport command "${sub ?? ''}"`);
  }
}

/** `tagger licence offers|offer|withdraw|buy|show|list|check|transfer|revoke`. */
export async function cmdLicence(ctx: CliContext, args: string[], flags: PassportFlags): Promise<void> {
  const [sub, arg] = args;
  switch (sub ?? '') {
    case 'offer':
      return offer(ctx, flags);
    case 'buy':
      return buy(ctx, flags);
    case 'withdraw':
      return report(ctx, await send(ctx, flags, buildLicenceWithdraw(u32Flag(ctx, 'offer', flags.offer))), 'licence_offer_withdrawn');
    case 'revoke':
      return report(ctx, await send(ctx, flags, buildLicenceRevoke(u32Flag(ctx, 'licence', flags.licence), reasonOf(ctx, flags))), 'licence_revoked');
    case 'transfer':
      return report(ctx, await send(ctx, flags, buildLicenceTransfer(u32Flag(ctx, 'licence', flags.licence), toFlag(ctx, flags))), 'licence_transferred');
    case 'offers': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      if (flags.offer !== undefined) return ctx.print(await client.offer(u32Flag(ctx, 'offer', flags.offer)));
      return ctx.print(await client.passportOffers(u32Flag(ctx, 'passport', flags.passport), pageOpts(ctx, flags)));
    }
    case 'show': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      return ctx.print(await client.licence(u32Flag(ctx, 'licence', flags.licence)));
    }
    case 'list': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      if (flags.passport !== undefined) return ctx.print(await client.passportLicences(u32Flag(ctx, 'passport', flags.passport), pageOpts(ctx, flags)));
      return ctx.print(await client.licencesByHolder(await addressArg(ctx, flags, arg), pageOpts(ctx, flags)));
    }
    case 'check': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      return ctx.print(await client.licenceCheck(u32Flag(ctx, 'passport', flags.passport), await addressArg(ctx, flags, arg)));
    }
    default:
      throw ctx.usage(`unknown licence command "${sub ?? ''}"`);
  }
}
