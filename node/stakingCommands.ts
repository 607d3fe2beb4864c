/**
 * The CLI's staking commands (docs/cli.md §Staking): `tagger validator create|edit|unjail|show|list|set`
 * and `tagger stake delegate|undelegate|claim|show`. Transactions are built with sdk/staking.ts and
 * sent like the labelling commands (sdk `sendTx`, the keyring and its password flags, a fee ceiling
 * from the chain's fee schedule); queries go through TaggerClient. Every command prints one JSON
 * object; a transaction whose receipt failed is an error with the receipt's code (e.g.
 * VALIDATOR_SELF_STAKE_TOO_LOW) and a non-zero exit.
 */
import { addressFromString, addressToString, hexToBytes, parseTag } from '../lib/index.ts';
import {
  TaggerClient,
  buildClaimRewards,
  buildDelegate,
  buildUndelegate,
  buildUnjail,
  buildValidatorCreate,
  buildValidatorEdit,
  stakingMaxFee,
  type CommittedTxJson,
  type DelegationJson,
  type FeeSchedule,
  type StakingBody,
  type UnbondingJson,
} from '../sdk/index.ts';
import { homePaths, loadNodeKey } from './home.ts';
import { sendCommitted, type CliContext } from './labellingCommands.ts';

/** Flags of the staking commands, added to the CLI's option table by main.ts. */
export const STAKING_OPTIONS = {
  validator: { type: 'string' },
  moniker: { type: 'string' },
  'commission-bps': { type: 'string' },
  'consensus-key': { type: 'string' },
  'self-stake': { type: 'string' },
} as const;

export type StakingFlags = {
  [K in keyof typeof STAKING_OPTIONS]?: string;
} & { from?: string; amount?: string; 'max-fee'?: string; cursor?: string; limit?: string };

/** Pages `stake show` follows at most (each looks at up to 1,000 validators). */
const SHOW_PAGES_MAX = 16;

type Session = { client: TaggerClient; chainId: string; fees: FeeSchedule };

async function session(ctx: CliContext): Promise<Session> {
  const client = new TaggerClient({ url: await ctx.nodeUrl() });
  const [status, params] = await Promise.all([client.status(), client.stakingParams()]);
  const fees = { baseFee: BigInt(params.fees.baseFee), perByteFee: BigInt(params.fees.perByteFee), txBytesMax: params.fees.txBytesMax };
  return { client, chainId: status.chainId, fees };
}

/** Signs, sends and waits for one staking transaction; a failed receipt is a TxFailedError. */
async function send(flags: StakingFlags, s: Session, secretKey: Uint8Array, body: StakingBody): Promise<CommittedTxJson> {
  const maxFee = flags['max-fee'] === undefined ? stakingMaxFee(s.chainId, body, s.fees) : parseTag(flags['max-fee']);
  return sendCommitted(s.client, secretKey, body, maxFee);
}

/** The transaction's first event of `type`, as an object; empty if none. */
function eventOf(tx: CommittedTxJson, type: string): Record<string, string> {
  return tx.receipt.events.find((e) => e.type === type)?.attributes ?? {};
}

function summary(tx: CommittedTxJson): { hash: string; height: number; fee: string } {
  return { hash: tx.hash, height: tx.height, fee: tx.receipt.fee };
}

function needFrom(ctx: CliContext, flags: StakingFlags): string {
  if (flags.from === undefined) throw ctx.usage('--from NAME (a keyring key) is required');
  return flags.from;
}

function needValidator(ctx: CliContext, flags: StakingFlags): Uint8Array {
  if (flags.validator === undefined) throw ctx.usage('--validator ADDRESS (the operator address) is required');
  return addressFromString(flags.validator);
}

function needAmount(ctx: CliContext, flags: StakingFlags, what: string): bigint {
  if (flags.amount === undefined) throw ctx.usage(`${what} needs --amount TAG`);
  return parseTag(flags.amount);
}

function bpsFlag(ctx: CliContext, value: string): number {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(value) || Number(value) > 10_000) throw ctx.usage(`--commission-bps must be a whole number from 0 to 10000, got "${value}"`);
  return Number(value);
}

function u32Flag(ctx: CliContext, name: string, value: string): number {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(value) || Number(value) > 0xffff_ffff) throw ctx.usage(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

/** The address a query is about: a positional ADDRESS, else the --from key's. */
async function addressArg(ctx: CliContext, flags: StakingFlags, positional: string | undefined): Promise<string> {
  if (positional !== undefined) return addressToString(addressFromString(positional));
  if (flags.from !== undefined) return (await ctx.keyInfo(flags.from)).address;
  throw ctx.usage('give an ADDRESS or --from NAME');
}

/** --consensus-key HEX, else the public key of the home's node key (the node that will sign). */
async function consensusKey(ctx: CliContext, flags: StakingFlags): Promise<Uint8Array> {
  const given = flags['consensus-key'];
  if (given !== undefined) {
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(given)) throw ctx.usage('--consensus-key must be a 32-byte ed25519 public key in hex');
    return hexToBytes(given);
  }
  return (await loadNodeKey(homePaths(ctx.home).nodeKey)).publicKey;
}

// ── validator ─────────────────────────────────────────────────────────────────────────────────

async function validatorCreate(ctx: CliContext, flags: StakingFlags): Promise<void> {
  const from = needFrom(ctx, flags);
  if (flags['self-stake'] === undefined || flags.moniker === undefined) throw ctx.usage('validator create needs --self-stake TAG and --moniker NAME');
  const body = buildValidatorCreate({
    consensusKey: await consensusKey(ctx, flags),
    selfStake: parseTag(flags['self-stake']),
    commissionBps: flags['commission-bps'] === undefined ? 0 : bpsFlag(ctx, flags['commission-bps']),
    moniker: flags.moniker,
  });
  const s = await session(ctx);
  const tx = await send(flags, s, await ctx.unlock(from), body);
  const created = eventOf(tx, 'validator_created');
  ctx.print({ operator: created['validator'] ?? null, consensusAddress: created['consensusAddress'] ?? null, selfStake: created['selfStake'] ?? null, ...summary(tx) });
}

async function validatorEdit(ctx: CliContext, flags: StakingFlags): Promise<void> {
  const from = needFrom(ctx, flags);
  if (flags['commission-bps'] === undefined && flags.moniker === undefined) throw ctx.usage('validator edit needs --commission-bps N and/or --moniker NAME');
  const s = await session(ctx);
  // The transaction carries both fields: the one not given keeps its current value.
  const current = await s.client.validator((await ctx.keyInfo(from)).address);
  const body = buildValidatorEdit({
    commissionBps: flags['commission-bps'] === undefined ? current.commissionBps : bpsFlag(ctx, flags['commission-bps']),
    moniker: flags.moniker ?? current.moniker,
  });
  const tx = await send(flags, s, await ctx.unlock(from), body);
  const edited = eventOf(tx, 'validator_edited');
  ctx.print({ operator: current.operator, commissionBps: Number(edited['commissionBps']), moniker: edited['moniker'] ?? null, ...summary(tx) });
}

export async function cmdValidator(ctx: CliContext, args: string[], flags: StakingFlags): Promise<void> {
  const [sub, positional] = args;
  switch (sub ?? '') {
    case 'create':
      return validatorCreate(ctx, flags);
    case 'edit':
      return validatorEdit(ctx, flags);
    case 'unjail': {
      const from = needFrom(ctx, flags);
      const s = await session(ctx);
      const tx = await send(flags, s, await ctx.unlock(from), buildUnjail());
      return ctx.print({ operator: (await ctx.keyInfo(from)).address, unjailed: true, ...summary(tx) });
    }
    case 'show': {
      const address = await addressArg(ctx, flags, positional);
      return ctx.print(await new TaggerClient({ url: await ctx.nodeUrl() }).validator(address));
    }
    case 'list': {
      const client = new TaggerClient({ url: await ctx.nodeUrl() });
      if (flags.cursor === undefined && flags.limit === undefined) return ctx.print(await client.allValidators());
      return ctx.print(
        await client.validators({
          ...(flags.cursor === undefined ? {} : { cursor: u32Flag(ctx, 'cursor', flags.cursor) }),
          ...(flags.limit === undefined ? {} : { limit: u32Flag(ctx, 'limit', flags.limit) }),
        }),
      );
    }
    case 'set':
      return ctx.print(await new TaggerClient({ url: await ctx.nodeUrl() }).validatorSet());
    default:
      throw ctx.usage(`unknown validator command "${sub ?? ''}"`);
  }
}

// ── stake ─────────────────────────────────────────────────────────────────────────────────────

/** Every delegation and unbonding entry of `address`, following the pages (bounded). */
async function stakeShow(client: TaggerClient, address: string): Promise<Record<string, unknown>> {
  const delegations: DelegationJson[] = [];
  const unbondings: UnbondingJson[] = [];
  let height = 0;
  let cursor: number | null = 0;
  for (let i = 0; cursor !== null && i < SHOW_PAGES_MAX; i++) {
    const page = await client.delegations(address, { cursor });
    delegations.push(...page.delegations);
    ({ height, nextCursor: cursor } = page);
  }
  cursor = 0;
  for (let i = 0; cursor !== null && i < SHOW_PAGES_MAX; i++) {
    const page = await client.unbondings(address, { cursor });
    unbondings.push(...page.unbondings);
    cursor = page.nextCursor;
  }
  let bonded = 0n;
  let rewards = 0n;
  for (const d of delegations) {
    bonded += BigInt(d.tokens);
    rewards += BigInt(d.pendingRewards);
  }
  return { height, address, bonded: bonded.toString(), pendingRewards: rewards.toString(), delegations, unbondings };
}

export async function cmdStake(ctx: CliContext, args: string[], flags: StakingFlags): Promise<void> {
  const [sub, positional] = args;
  switch (sub ?? '') {
    case 'delegate':
    case 'undelegate': {
      const from = needFrom(ctx, flags);
      const validator = needValidator(ctx, flags);
      const amount = needAmount(ctx, flags, `stake ${sub}`);
      const s = await session(ctx);
      const body = sub === 'delegate' ? buildDelegate(validator, amount) : buildUndelegate(validator, amount);
      const tx = await send(flags, s, await ctx.unlock(from), body);
      const e = eventOf(tx, sub === 'delegate' ? 'delegated' : 'undelegated');
      const completion = e['completionHeight'];
      return ctx.print({
        delegator: e['delegator'] ?? null,
        validator: addressToString(validator),
        amount: e['amount'] ?? amount.toString(),
        rewardsPaid: e['rewards'] ?? '0',
        ...(completion === undefined ? {} : { completionHeight: Number(completion) }),
        ...summary(tx),
      });
    }
    case 'claim': {
      const from = needFrom(ctx, flags);
      const validator = needValidator(ctx, flags);
      const s = await session(ctx);
      const tx = await send(flags, s, await ctx.unlock(from), buildClaimRewards(validator));
      const e = eventOf(tx, 'rewards_claimed');
      return ctx.print({ delegator: e['delegator'] ?? null, validator: addressToString(validator), rewards: e['rewards'] ?? '0', commission: e['commission'] ?? '0', ...summary(tx) });
    }
    case 'show': {
      const address = await addressArg(ctx, flags, positional);
      return ctx.print(await stakeShow(new TaggerClient({ url: await ctx.nodeUrl() }), address));
    }
    default:
      throw ctx.usage(`unknown stake command "${sub ?? ''}"`);
  }
}
