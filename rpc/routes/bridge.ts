/**
 * The bridge's read endpoints (docs/rpc.md §Bridge): parameters and counters, deposits being
 * attested, withdrawals with their Merkle proof once checkpointed, and checkpoints with everything a
 * relayer passes to TaggerBridge.submitCheckpoint(cp, set, sigs, next). Answered from the committed
 * state (`RpcDeps.state()`) with the runtime's own record decoders, in one synchronous turn per
 * reply, so a reply is consistent with the `height` it reports. The BNB Chain transaction hashes of
 * releases and checkpoint submissions come from the optional `RpcDeps.bnb` lookup, asked after the
 * state reads.
 *
 * Bounds: a page holds at most BRIDGE_PAGE_MAX entries; a deposits page looks at most
 * DEPOSIT_SCAN_MAX nonces; a proof hashes the leaves of one checkpoint (at most PROOF_LEAVES_MAX,
 * the runtime's WITHDRAWALS_PER_CHECKPOINT_CEILING); finding a withdrawal's checkpoint is a binary
 * search over the checkpoints (about 32 reads at most); the leaves of the last
 * LEAF_CACHE_CHECKPOINTS_MAX checkpoints proven are kept.
 */
import type { FastifyPluginAsync } from 'fastify';
import { U32_MAX, assert, bytesToHex, verifyWithdrawalProof, withdrawalLeaf, withdrawalProof } from '../../lib/index.ts';
import {
  WITHDRAWALS_PER_CHECKPOINT_CEILING,
  checkpointNextSet,
  loadCheckpointSigs,
  loadBridgeGlobals,
  loadBridgeParams,
  loadBridgeSet,
  loadCheckpoint,
  loadDeposit,
  loadWithdrawal,
  type BridgeGlobals,
  type CheckpointRecord,
} from '../../runtime/index.ts';
import type { StateReader } from '../../state/index.ts';
import { BRIDGE_PAGE_MAX, BRIDGE_PAGE_QUERY } from '../bridgeSchemas.ts';
import {
  bridgeGlobalsToJson,
  bridgeParamsToJson,
  bridgeSetToJson,
  checkpointToJson,
  depositToJson,
  mintedDepositJson,
  withdrawalToJson,
  type BnbTxJson,
  type BridgeStatusJson,
  type CheckpointJson,
  type CheckpointReplyJson,
  type CheckpointsPageJson,
  type DepositJson,
  type DepositReplyJson,
  type DepositsPageJson,
  type WithdrawalJson,
  type WithdrawalPlace,
  type WithdrawalProofJson,
  type WithdrawalReplyJson,
  type WithdrawalsPageJson,
} from '../bridgeViews.ts';
import { RpcError } from '../errors.ts';
import { U32_PARAM, params } from '../labellingSchemas.ts';
import { ERROR_REPLIES, ref } from '../schemas.ts';
import { hex, type Hex } from '../views.ts';
import type { RoutesOpts } from './status.ts';

/** Nonces one deposits page looks at, at most (pending deposits may have gaps). */
export const DEPOSIT_SCAN_MAX = 1_024;
/** Leaves a withdrawal proof is built over, at most. */
export const PROOF_LEAVES_MAX = WITHDRAWALS_PER_CHECKPOINT_CEILING;
/** Checkpoints whose leaves are kept for the next proofs (at most 128 KiB each). */
export const LEAF_CACHE_CHECKPOINTS_MAX = 8;

type PageQuery = { from?: string; limit: string };

/** A decimal u32 from a path or query parameter (the schema has checked the digits). */
function u32(text: string, name: string, part: 'params' | 'querystring'): number {
  const n = Number(text);
  if (n > U32_MAX) {
    const issues = [{ path: `/${name}`, message: `must be <= ${U32_MAX}` }];
    throw new RpcError({ code: 'RPC_INVALID_REQUEST', part, issues }, `invalid ${part}: ${name} must be <= ${U32_MAX}`);
  }
  return n;
}

/** The page asked for; `from` defaults to `start`, and nonces and numbers start at 1. */
function page(q: PageQuery, start: number): { from: number; limit: number } {
  return { from: q.from === undefined ? start : Math.max(1, u32(q.from, 'from', 'querystring')), limit: Number(q.limit) };
}

// ── deposits ─────────────────────────────────────────────────────────────────────────────────────

/** The deposit `nonce`, or null if the chain has no record of it (never attested, or nonce 0). */
function depositOf(reader: StateReader, g: BridgeGlobals, nonce: number): DepositJson | null {
  if (nonce === 0) return null;
  if (nonce < g.nextDepositNonce) return mintedDepositJson(nonce);
  const d = loadDeposit(reader, nonce);
  return d === null ? null : depositToJson(d);
}

// ── withdrawals ──────────────────────────────────────────────────────────────────────────────────

/**
 * The checkpoint holding withdrawal `nonce`: the last checkpoint whose first leaf nonce is ≤ nonce
 * (first nonces never decrease, and an empty checkpoint is followed by one with the same first nonce
 * or is the last). Null when the nonce is not checkpointed yet.
 */
function checkpointOfWithdrawal(reader: StateReader, g: BridgeGlobals, nonce: number): CheckpointRecord | null {
  if (nonce > g.checkpointedNonce) return null;
  let lo = 1;
  let hi = g.lastCheckpoint;
  let found: CheckpointRecord | null = null;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const c = loadCheckpoint(reader, mid);
    assert(c !== null, `bridge checkpoint ${mid} missing`);
    if (c.firstWithdrawalNonce <= nonce) {
      found = c;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  assert(found !== null && nonce < found.firstWithdrawalNonce + found.withdrawalCount, `withdrawal ${nonce} in no checkpoint`);
  return found;
}

function placeIn(c: CheckpointRecord | null, nonce: number): WithdrawalPlace {
  return c === null ? null : { checkpoint: c.number, index: nonce - c.firstWithdrawalNonce, signed: c.signed };
}

/** The checkpoint's leaves, in order, from the withdrawal records. */
function leavesOf(reader: StateReader, c: CheckpointRecord): Uint8Array[] {
  assert(c.withdrawalCount <= PROOF_LEAVES_MAX, `checkpoint ${c.number} has ${c.withdrawalCount} leaves`);
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < c.withdrawalCount; i++) {
    const nonce = c.firstWithdrawalNonce + i;
    const w = loadWithdrawal(reader, nonce);
    assert(w !== null, `bridge withdrawal ${nonce} missing`);
    leaves.push(withdrawalLeaf({ nonce: BigInt(nonce), sender: w.sender, recipient: w.recipient, amount: w.amount }));
  }
  return leaves;
}

/**
 * A checkpoint's leaves never change once it is closed (withdrawal records are written once), so the
 * leaves of the last few checkpoints asked about are kept, keyed by number and root.
 */
class LeafCache {
  private readonly entries = new Map<string, Uint8Array[]>();

  leaves(reader: StateReader, c: CheckpointRecord): Uint8Array[] {
    const key = `${c.number}:${bytesToHex(c.withdrawalsRoot)}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const leaves = leavesOf(reader, c);
    if (this.entries.size >= LEAF_CACHE_CHECKPOINTS_MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, leaves);
    return leaves;
  }
}

function proofOf(leaves: readonly Uint8Array[], c: CheckpointRecord, index: number): WithdrawalProofJson {
  const siblings = withdrawalProof(leaves, index);
  const leaf = leaves[index]!;
  assert(verifyWithdrawalProof(c.withdrawalsRoot, c.withdrawalCount, leaf, index, siblings), `checkpoint ${c.number}: leaf ${index} does not lead to its withdrawals root`);
  return { checkpoint: c.number, index, leaf: hex(leaf), siblings: siblings.map(hex), withdrawalsRoot: hex(c.withdrawalsRoot), withdrawalCount: c.withdrawalCount };
}

// ── checkpoints ──────────────────────────────────────────────────────────────────────────────────

function checkpointJson(reader: StateReader, c: CheckpointRecord): CheckpointJson {
  return checkpointToJson(c, loadCheckpointSigs(reader, c).map((x) => ({ signer: hex(x.signer), signature: hex(x.signature) })), checkpointNextSet(reader, c));
}

// ── BNB Chain lookups ────────────────────────────────────────────────────────────────────────────

/** Asks the lookup (if the node has one) unless `ask` is false (nothing can be on BNB Chain yet). */
async function bnbTx(lookup: ((n: number) => Promise<Hex | null>) | undefined, n: number, ask: boolean): Promise<BnbTxJson | null> {
  if (lookup === undefined) return null;
  if (!ask) return { txHash: null, error: null };
  try {
    return { txHash: await lookup(n), error: null };
  } catch (e: unknown) {
    return { txHash: null, error: (e instanceof Error ? e.message : String(e)).slice(0, 200) };
  }
}

// ── routes ───────────────────────────────────────────────────────────────────────────────────────

const NONCE_PARAMS = params({ nonce: { ...U32_PARAM, description: 'nonce (decimal u32, from 1)' } });
const NUMBER_PARAMS = params({ number: { ...U32_PARAM, description: 'checkpoint number (decimal u32, from 1)' } });

export const bridgeRoutes: FastifyPluginAsync<RoutesOpts> = async (app, { deps }) => {
  const cache = new LeafCache();

  app.get(
    '/v1/bridge',
    { schema: { tags: ['bridge'], summary: 'Bridge parameters, counters (bridged supply, nonces, last checkpoint) and the signing set', response: { 200: ref('BridgeStatus'), ...ERROR_REPLIES } } },
    async (): Promise<BridgeStatusJson> => {
      const { height, reader } = deps.state();
      const p = loadBridgeParams(reader);
      return {
        height,
        enabled: p.checkpointInterval !== 0,
        params: bridgeParamsToJson(p),
        globals: bridgeGlobalsToJson(loadBridgeGlobals(reader)),
        signingSet: bridgeSetToJson(loadBridgeSet(reader)),
      };
    },
  );

  app.get<{ Params: { nonce: string } }>(
    '/v1/bridge/deposits/:nonce',
    {
      schema: {
        tags: ['bridge'],
        summary: 'A deposit by its BNB Chain nonce: pending (attested, below quorum), ready, or minted',
        params: NONCE_PARAMS,
        response: { 200: ref('BridgeDepositReply'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<DepositReplyJson> => {
      const nonce = u32(req.params.nonce, 'nonce', 'params');
      const { height, reader } = deps.state();
      const d = depositOf(reader, loadBridgeGlobals(reader), nonce);
      if (d === null) throw new RpcError({ code: 'BRIDGE_DEPOSIT_NOT_FOUND', nonce }, `no deposit ${nonce} attested or minted`);
      return { height, ...d };
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/bridge/deposits',
    {
      schema: {
        tags: ['bridge'],
        summary: `Deposits from nonce \`from\` (default: the next to mint), at most ${BRIDGE_PAGE_MAX}; looks at ${DEPOSIT_SCAN_MAX} nonces at most`,
        querystring: BRIDGE_PAGE_QUERY,
        response: { 200: ref('BridgeDepositsPage'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<DepositsPageJson> => {
      const { height, reader } = deps.state();
      const g = loadBridgeGlobals(reader);
      const { from, limit } = page(req.query, g.nextDepositNonce);
      const end = Math.min(from + DEPOSIT_SCAN_MAX, g.nextDepositNonce + loadBridgeParams(reader).depositsAheadMax, U32_MAX + 1);
      const deposits: DepositJson[] = [];
      let nonce = from;
      for (; nonce < end && deposits.length < limit; nonce++) {
        const d = depositOf(reader, g, nonce);
        if (d !== null) deposits.push(d);
      }
      return { height, deposits, nextFrom: nonce < end ? nonce : null };
    },
  );

  app.get<{ Params: { nonce: string } }>(
    '/v1/bridge/withdrawals/:nonce',
    {
      schema: {
        tags: ['bridge'],
        summary: 'A withdrawal, its checkpoint and Merkle proof (for TaggerBridge.withdraw), and its BNB Chain release transaction',
        params: NONCE_PARAMS,
        response: { 200: ref('BridgeWithdrawalReply'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<WithdrawalReplyJson> => {
      const nonce = u32(req.params.nonce, 'nonce', 'params');
      const { height, reader } = deps.state();
      const w = nonce === 0 ? null : loadWithdrawal(reader, nonce);
      if (w === null) throw new RpcError({ code: 'BRIDGE_WITHDRAWAL_NOT_FOUND', nonce }, `no withdrawal ${nonce}`);
      const c = checkpointOfWithdrawal(reader, loadBridgeGlobals(reader), nonce);
      const place = placeIn(c, nonce);
      const proof = c === null || place === null ? null : proofOf(cache.leaves(reader, c), c, place.index);
      // State is read: from here on the reply may wait for BNB Chain.
      const lookup = deps.bnb;
      const bnb = await bnbTx(lookup === undefined ? undefined : (n) => lookup.releaseTx(n), nonce, place?.signed ?? false);
      return { height, ...withdrawalToJson(w, place), proof, bnb };
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/bridge/withdrawals',
    {
      schema: {
        tags: ['bridge'],
        summary: `Withdrawals from nonce \`from\` (default 1), at most ${BRIDGE_PAGE_MAX}, with their checkpoints (no proofs)`,
        querystring: BRIDGE_PAGE_QUERY,
        response: { 200: ref('BridgeWithdrawalsPage'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<WithdrawalsPageJson> => {
      const { height, reader } = deps.state();
      const g = loadBridgeGlobals(reader);
      const { from, limit } = page(req.query, 1);
      const end = Math.min(g.nextWithdrawalNonce, from + limit);
      const withdrawals: WithdrawalJson[] = [];
      let c: CheckpointRecord | null = null;
      for (let nonce = from; nonce < end; nonce++) {
        const w = loadWithdrawal(reader, nonce);
        assert(w !== null, `bridge withdrawal ${nonce} missing`);
        // Consecutive nonces share a checkpoint: search again only past the last one found.
        if (c === null || nonce >= c.firstWithdrawalNonce + c.withdrawalCount) c = checkpointOfWithdrawal(reader, g, nonce);
        withdrawals.push(withdrawalToJson(w, placeIn(c, nonce)));
      }
      return { height, withdrawals, nextFrom: end < g.nextWithdrawalNonce ? end : null };
    },
  );

  app.get<{ Params: { number: string } }>(
    '/v1/bridge/checkpoints/:number',
    {
      schema: {
        tags: ['bridge'],
        summary: 'A checkpoint with its signatures and next set (the arguments of TaggerBridge.submitCheckpoint), and its BNB Chain transaction',
        params: NUMBER_PARAMS,
        response: { 200: ref('BridgeCheckpointReply'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<CheckpointReplyJson> => {
      const number = u32(req.params.number, 'number', 'params');
      const { height, reader } = deps.state();
      const c = number === 0 ? null : loadCheckpoint(reader, number);
      if (c === null) throw new RpcError({ code: 'BRIDGE_CHECKPOINT_NOT_FOUND', number }, `no checkpoint ${number}`);
      const json = checkpointJson(reader, c);
      const lookup = deps.bnb;
      const bnb = await bnbTx(lookup === undefined ? undefined : (n) => lookup.checkpointTx(n), number, c.signed);
      return { height, ...json, bnb };
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/v1/bridge/checkpoints',
    {
      schema: {
        tags: ['bridge'],
        summary: `Checkpoints from number \`from\` (default 1), at most ${BRIDGE_PAGE_MAX}, with their signatures`,
        querystring: BRIDGE_PAGE_QUERY,
        response: { 200: ref('BridgeCheckpointsPage'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<CheckpointsPageJson> => {
      const { height, reader } = deps.state();
      const g = loadBridgeGlobals(reader);
      const { from, limit } = page(req.query, 1);
      const end = Math.min(g.lastCheckpoint + 1, from + limit);
      const checkpoints: CheckpointJson[] = [];
      for (let number = from; number < end; number++) {
        const c = loadCheckpoint(reader, number);
        assert(c !== null, `bridge checkpoint ${number} missing`);
        checkpoints.push(checkpointJson(reader, c));
      }
      return { height, checkpoints, nextFrom: end <= g.lastCheckpoint ? end : null };
    },
  );
};
