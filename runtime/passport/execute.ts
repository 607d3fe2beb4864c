/**
 * Executes passport and licence transactions. Each handler either succeeds (writes + events) or
 * throws TxFailure with a receipt code; applyTx runs it in a forked view, so a failure leaves
 * nothing. See docs/spec/passport.md §Transactions and §Rules.
 */
import { AMOUNT_MAX, addressToString, assert, concatBytes, encode, equalBytes, sha256, u32ToBytes } from '../../lib/index.ts';
import { loadAccount, saveAccount, type StateView } from '../../state/index.ts';
import type { ChainEvent } from '../block.ts';
import { TxFailure } from '../errors.ts';
import { TASK_STATUS, encodeLabellingParams, loadLabellingParams, loadTask, taskSpecToWire, type Task } from '../labelling/index.ts';
import { LIST, buildQueuePush, listPush } from './lists.ts';
import type { PassportParams } from './params.ts';
import {
  BPS,
  CONSENT_BASIS_BYTES_MAX,
  LICENCE_KIND,
  METADATA_BYTES_MAX,
  METHOD_BYTES_MAX,
  METHOD_VERSION_BYTES_MAX,
  PASSPORT_SOURCE,
  PASSPORT_STATUS,
  SCHEMA_BYTES_MAX,
  USES_MASK,
  licenceActive,
  loadContributors,
  loadLicence,
  loadLicenceHeld,
  loadOffer,
  loadPassportCounter,
  loadPassportHead,
  loadPassportVersion,
  saveBuildJob,
  saveLicence,
  saveLicenceHeld,
  saveOffer,
  savePassportCounter,
  savePassportHead,
  savePassportVersion,
  type Licence,
  type Offer,
  type PassportHead,
  type PassportSpec,
  type PassportVersion,
} from './records.ts';
import { splitPayment } from './split.ts';
import type { OfferTerms, PassportBody } from './txs.ts';

export type PassportTxEnv = { height: number; params: PassportParams };

/** The consensus method a task-derived version records (runtime/labelling/aggregate.ts). */
export const TASK_METHOD = 'dawid-skene-q16';
export const TASK_METHOD_VERSION = 'tagger-labelling/1';
/** Versions one passport may have. */
export const VERSIONS_MAX = 65_535;

const ev = (type: string, attributes: Array<readonly [string, string]>): ChainEvent => ({ type, attributes });
const ZERO_ROOT = new Uint8Array(32);

export function executePassport(view: StateView, sender: Uint8Array, body: PassportBody, env: PassportTxEnv): ChainEvent[] {
  switch (body.kind) {
    case 'passportCreate':
      return createFromTask(view, sender, body.task, body.spec, env);
    case 'passportRegister':
      return registerExternal(view, sender, body.contentRoot, body.recordCount, body.spec, env);
    case 'passportVersion':
      return addVersion(view, sender, body.passport, body.task, body.contentRoot, body.recordCount, body.spec, env);
    case 'passportTransfer':
      return transferPassport(view, sender, body.passport, body.to);
    case 'licenceOffer':
      return listOffer(view, sender, body.passport, body.terms, env);
    case 'licenceWithdraw':
      return withdrawOffer(view, sender, body.offer);
    case 'licenceBuy':
      return buyLicence(view, sender, body.offer, body.maxPrice, env);
    case 'licenceRevoke':
      return revokeLicence(view, sender, body.licence, body.reason, env);
    case 'licenceTransfer':
      return transferLicence(view, sender, body.licence, body.to, env);
  }
}

// ── passports ───────────────────────────────────────────────────────────────────────────────────

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Bounds of the free-form fields and the terms (docs/spec/passport.md §Rules P1). */
export function validatePassportSpec(spec: PassportSpec, fromTask: boolean, params: PassportParams): void {
  if (
    byteLength(spec.schema) > SCHEMA_BYTES_MAX ||
    byteLength(spec.consent.basis) > CONSENT_BASIS_BYTES_MAX ||
    byteLength(spec.method) > METHOD_BYTES_MAX ||
    byteLength(spec.methodVersion) > METHOD_VERSION_BYTES_MAX ||
    byteLength(spec.metadata) > METADATA_BYTES_MAX
  ) {
    throw new TxFailure('PASSPORT_METADATA_TOO_LARGE');
  }
  if ((spec.terms.uses & ~USES_MASK) !== 0 || spec.terms.contributorsShareBps > BPS) throw new TxFailure('PASSPORT_BAD_TERMS');
  if (fromTask && spec.terms.contributorsShareBps < params.contributorsShareBpsMin) throw new TxFailure('PASSPORT_SHARE_TOO_LOW');
}

function doneTaskOf(view: StateView, sender: Uint8Array, id: number): Task {
  const task = loadTask(view, id);
  if (task === null) throw new TxFailure('PASSPORT_TASK_NOT_FOUND');
  if (!equalBytes(task.requester, sender)) throw new TxFailure('PASSPORT_NOT_REQUESTER');
  if (task.status !== TASK_STATUS.done) throw new TxFailure('PASSPORT_TASK_NOT_DONE');
  return task;
}

/** The hash a task-derived version records as its parameters: the labelling parameters and the task's spec. */
export function taskParamsHash(view: StateView, task: Task): Uint8Array {
  return sha256(concatBytes(encodeLabellingParams(loadLabellingParams(view)), encode(taskSpecToWire(task.spec))));
}

function newVersion(id: number, version: number, spec: PassportSpec, height: number): PassportVersion {
  return {
    id,
    version,
    parent: version - 1,
    status: PASSPORT_STATUS.active,
    source: PASSPORT_SOURCE.external,
    contentRoot: ZERO_ROOT,
    recordCount: 0,
    schema: spec.schema,
    consent: spec.consent,
    terms: spec.terms,
    provenance: {
      sourceTasks: [],
      method: spec.method,
      methodVersion: spec.methodVersion,
      paramsHash: spec.paramsHash,
      meanConfidenceQ16: 0,
      contributorCount: 0,
      contributorShares: 0,
      foldedShares: 0,
    },
    metadata: spec.metadata,
    createdHeight: height,
    activeHeight: height,
  };
}

/** A version built from a done task: registered as building, its records hashed by the end-of-block job. */
function taskVersion(view: StateView, task: Task, id: number, version: number, spec: PassportSpec, height: number): PassportVersion {
  const base = newVersion(id, version, spec, height);
  saveBuildJob(view, {
    id,
    version,
    task: task.id,
    itemCount: task.spec.itemCount,
    phase: 0,
    cursor: 0,
    builder: new Uint8Array(0),
    confidenceSum: 0n,
    tallied: 0,
    top: [],
    folded: 0,
  });
  buildQueuePush(view, id, version);
  listPush(view, LIST.passportsByTask, u32ToBytes(task.id), [id, version]);
  return {
    ...base,
    status: PASSPORT_STATUS.building,
    source: PASSPORT_SOURCE.task,
    activeHeight: 0,
    provenance: { ...base.provenance, sourceTasks: [task.id], method: TASK_METHOD, methodVersion: TASK_METHOD_VERSION, paramsHash: taskParamsHash(view, task) },
  };
}

function externalVersion(id: number, version: number, root: Uint8Array, count: number, spec: PassportSpec, height: number): PassportVersion {
  if (count === 0) throw new TxFailure('PASSPORT_BAD_CONTENT');
  return { ...newVersion(id, version, spec, height), contentRoot: root, recordCount: count };
}

function newPassport(view: StateView, owner: Uint8Array, height: number): PassportHead {
  const id = loadPassportCounter(view, 'passports') + 1;
  savePassportCounter(view, 'passports', id);
  listPush(view, LIST.passportsByOwner, owner, [id]);
  return { id, owner, latest: 1, active: 0, createdHeight: height };
}

function versionEvent(type: string, v: PassportVersion, owner: Uint8Array): ChainEvent {
  return ev(type, [
    ['passport', String(v.id)],
    ['version', String(v.version)],
    ['owner', addressToString(owner)],
    ['status', v.status === PASSPORT_STATUS.active ? 'active' : 'building'],
  ]);
}

function createFromTask(view: StateView, sender: Uint8Array, taskId: number, spec: PassportSpec, env: PassportTxEnv): ChainEvent[] {
  validatePassportSpec(spec, true, env.params);
  const task = doneTaskOf(view, sender, taskId);
  const head = newPassport(view, sender, env.height);
  const version = taskVersion(view, task, head.id, 1, spec, env.height);
  savePassportHead(view, head);
  savePassportVersion(view, version);
  return [versionEvent('passport_created', version, sender)];
}

function registerExternal(view: StateView, sender: Uint8Array, root: Uint8Array, count: number, spec: PassportSpec, env: PassportTxEnv): ChainEvent[] {
  validatePassportSpec(spec, false, env.params);
  const head = newPassport(view, sender, env.height);
  const version = externalVersion(head.id, 1, root, count, spec, env.height);
  savePassportHead(view, { ...head, active: 1 });
  savePassportVersion(view, version);
  return [versionEvent('passport_created', version, sender)];
}

function ownPassport(view: StateView, sender: Uint8Array, id: number): PassportHead {
  const head = loadPassportHead(view, id);
  if (head === null) throw new TxFailure('PASSPORT_NOT_FOUND');
  if (!equalBytes(head.owner, sender)) throw new TxFailure('PASSPORT_NOT_OWNER');
  return head;
}

function latestVersion(view: StateView, head: PassportHead): PassportVersion {
  const v = loadPassportVersion(view, head.id, head.latest);
  if (v === null) throw new TxFailure('PASSPORT_NOT_FOUND');
  return v;
}

function addVersion(
  view: StateView,
  sender: Uint8Array,
  id: number,
  taskId: number,
  root: Uint8Array | null,
  count: number,
  spec: PassportSpec,
  env: PassportTxEnv,
): ChainEvent[] {
  const head = ownPassport(view, sender, id);
  validatePassportSpec(spec, taskId !== 0, env.params);
  if (latestVersion(view, head).status === PASSPORT_STATUS.building) throw new TxFailure('PASSPORT_BUILDING');
  if (head.latest >= VERSIONS_MAX) throw new TxFailure('PASSPORT_VERSIONS_FULL');
  const number = head.latest + 1;
  let version: PassportVersion;
  if (taskId !== 0) {
    if (root !== null || count !== 0) throw new TxFailure('PASSPORT_BAD_CONTENT');
    version = taskVersion(view, doneTaskOf(view, sender, taskId), id, number, spec, env.height);
  } else {
    if (root === null) throw new TxFailure('PASSPORT_BAD_CONTENT');
    version = externalVersion(id, number, root, count, spec, env.height);
  }
  savePassportHead(view, { ...head, latest: number, active: version.status === PASSPORT_STATUS.active ? number : head.active });
  savePassportVersion(view, version);
  return [versionEvent('passport_versioned', version, sender)];
}

function transferPassport(view: StateView, sender: Uint8Array, id: number, to: Uint8Array): ChainEvent[] {
  const head = ownPassport(view, sender, id);
  if (equalBytes(to, sender)) throw new TxFailure('PASSPORT_SAME_OWNER');
  // The newest version's terms decide (docs/spec/passport.md §Rules P5).
  if (!latestVersion(view, head).terms.transferable) throw new TxFailure('PASSPORT_NOT_TRANSFERABLE');
  savePassportHead(view, { ...head, owner: to });
  listPush(view, LIST.passportsByOwner, to, [id]);
  return [ev('passport_transferred', [['passport', String(id)], ['from', addressToString(sender)], ['to', addressToString(to)]])];
}

// ── offers and licences ─────────────────────────────────────────────────────────────────────────

function listOffer(view: StateView, sender: Uint8Array, passport: number, terms: OfferTerms, env: PassportTxEnv): ChainEvent[] {
  const head = ownPassport(view, sender, passport);
  const latest = latestVersion(view, head);
  // An offer grants no use the passport's terms do not permit; an open licence is free.
  if ((terms.uses & ~latest.terms.uses) !== 0 || terms.uses === 0) throw new TxFailure('OFFER_BAD_TERMS');
  if (terms.kind === LICENCE_KIND.open && terms.price !== 0n) throw new TxFailure('OFFER_BAD_TERMS');
  if (terms.expiresAt !== 0 && terms.expiresAt < env.height) throw new TxFailure('OFFER_EXPIRED');
  const id = loadPassportCounter(view, 'offers') + 1;
  savePassportCounter(view, 'offers', id);
  const offer: Offer = { id, passport, seller: sender, ...terms, sold: 0, withdrawn: false, createdHeight: env.height };
  saveOffer(view, offer);
  listPush(view, LIST.offersByPassport, u32ToBytes(passport), [id]);
  return [ev('licence_offered', [['offer', String(id)], ['passport', String(passport)], ['price', terms.price.toString()]])];
}

function withdrawOffer(view: StateView, sender: Uint8Array, id: number): ChainEvent[] {
  const offer = loadOffer(view, id);
  if (offer === null) throw new TxFailure('OFFER_NOT_FOUND');
  const head = loadPassportHead(view, offer.passport);
  const isOwner = head !== null && equalBytes(head.owner, sender);
  if (!equalBytes(offer.seller, sender) && !isOwner) throw new TxFailure('PASSPORT_NOT_OWNER');
  if (offer.withdrawn) throw new TxFailure('OFFER_WITHDRAWN');
  saveOffer(view, { ...offer, withdrawn: true });
  return [ev('licence_offer_withdrawn', [['offer', String(id)], ['passport', String(offer.passport)]])];
}

function credit(view: StateView, who: Uint8Array, amount: bigint): void {
  if (amount === 0n) return;
  const account = loadAccount(view, who);
  assert(account.balance <= AMOUNT_MAX - amount, 'credit: balance overflow'); // the total supply bounds every balance
  saveAccount(view, who, { ...account, balance: account.balance + amount });
}

/** Checks an offer can be bought by `buyer` now; returns the passport's head. */
function checkOffer(view: StateView, buyer: Uint8Array, offer: Offer, maxPrice: bigint, height: number): PassportHead {
  if (offer.withdrawn) throw new TxFailure('OFFER_WITHDRAWN');
  if (offer.expiresAt !== 0 && height > offer.expiresAt) throw new TxFailure('OFFER_EXPIRED');
  if (offer.maxSales !== 0 && offer.sold >= offer.maxSales) throw new TxFailure('OFFER_SOLD_OUT');
  if (offer.price > maxPrice) throw new TxFailure('OFFER_PRICE_ABOVE_MAX');
  const head = loadPassportHead(view, offer.passport);
  if (head === null) throw new TxFailure('PASSPORT_NOT_FOUND');
  // An owner's offers lapse when the passport changes hands (docs/spec/passport.md §Rules L2).
  if (!equalBytes(head.owner, offer.seller)) throw new TxFailure('OFFER_STALE');
  if (equalBytes(head.owner, buyer)) throw new TxFailure('LICENCE_SELF_PURCHASE');
  if (head.active === 0) throw new TxFailure('PASSPORT_BUILDING');
  const held = loadLicenceHeld(view, offer.id, buyer);
  if (held !== null) {
    const licence = loadLicence(view, held);
    if (licence !== null && equalBytes(licence.holder, buyer) && licenceActive(licence, height)) throw new TxFailure('LICENCE_ALREADY_HELD');
  }
  return head;
}

function buyLicence(view: StateView, buyer: Uint8Array, offerId: number, maxPrice: bigint, env: PassportTxEnv): ChainEvent[] {
  const offer = loadOffer(view, offerId);
  if (offer === null) throw new TxFailure('OFFER_NOT_FOUND');
  const head = checkOffer(view, buyer, offer, maxPrice, env.height);
  const account = loadAccount(view, buyer);
  if (account.balance < offer.price) throw new TxFailure('LICENCE_INSUFFICIENT_FUNDS');
  saveAccount(view, buyer, { ...account, balance: account.balance - offer.price });

  const version = loadPassportVersion(view, head.id, head.active);
  if (version === null) throw new TxFailure('PASSPORT_NOT_FOUND');
  const contributors = loadContributors(view, head.id, head.active);
  const split = splitPayment(offer.price, version.terms.contributorsShareBps, contributors, version.provenance.foldedShares);
  contributors.forEach((c, i) => credit(view, c.address, split.contributors[i] ?? 0n));
  credit(view, head.owner, split.owner);

  const id = loadPassportCounter(view, 'licences') + 1;
  savePassportCounter(view, 'licences', id);
  const licence: Licence = {
    id,
    offer: offer.id,
    passport: head.id,
    version: head.active,
    holder: buyer,
    buyer,
    kind: offer.kind,
    price: offer.price,
    uses: offer.uses,
    transferable: offer.transferable,
    revocable: offer.revocable,
    startHeight: env.height,
    expiresAt: offer.durationBlocks === 0 ? 0 : env.height + offer.durationBlocks,
    revokedHeight: 0,
    revokeReason: new Uint8Array(0),
  };
  saveLicence(view, licence);
  saveLicenceHeld(view, offer.id, buyer, id);
  saveOffer(view, { ...offer, sold: offer.sold + 1 });
  indexHolder(view, licence, buyer);
  listPush(view, LIST.licencesByPassport, u32ToBytes(head.id), [id]);
  return [
    ev('licence_bought', [
      ['licence', String(id)],
      ['offer', String(offer.id)],
      ['passport', String(head.id)],
      ['version', String(head.active)],
      ['buyer', addressToString(buyer)],
      ['price', offer.price.toString()],
      ['toOwner', split.owner.toString()],
      ['toContributors', (offer.price - split.owner).toString()],
      ['contributors', String(contributors.length)],
      ['expiresAt', String(licence.expiresAt)],
    ]),
  ];
}

function indexHolder(view: StateView, licence: Licence, holder: Uint8Array): void {
  listPush(view, LIST.licencesByHolder, holder, [licence.id]);
  listPush(view, LIST.licencesByPassportHolder, concatBytes(u32ToBytes(licence.passport), holder), [licence.id]);
}

function revokeLicence(view: StateView, sender: Uint8Array, id: number, reason: Uint8Array, env: PassportTxEnv): ChainEvent[] {
  const licence = loadLicence(view, id);
  if (licence === null) throw new TxFailure('LICENCE_NOT_FOUND');
  ownPassport(view, sender, licence.passport);
  if (!licence.revocable) throw new TxFailure('LICENCE_NOT_REVOCABLE');
  if (licence.revokedHeight !== 0) throw new TxFailure('LICENCE_ALREADY_REVOKED');
  saveLicence(view, { ...licence, revokedHeight: env.height, revokeReason: reason });
  return [ev('licence_revoked', [['licence', String(id)], ['passport', String(licence.passport)], ['holder', addressToString(licence.holder)]])];
}

function transferLicence(view: StateView, sender: Uint8Array, id: number, to: Uint8Array, env: PassportTxEnv): ChainEvent[] {
  const licence = loadLicence(view, id);
  if (licence === null) throw new TxFailure('LICENCE_NOT_FOUND');
  if (!equalBytes(licence.holder, sender)) throw new TxFailure('LICENCE_NOT_HOLDER');
  if (!licence.transferable) throw new TxFailure('LICENCE_NOT_TRANSFERABLE');
  if (!licenceActive(licence, env.height)) throw new TxFailure('LICENCE_INACTIVE');
  if (equalBytes(to, sender)) throw new TxFailure('LICENCE_SAME_HOLDER');
  const moved = { ...licence, holder: to };
  saveLicence(view, moved);
  indexHolder(view, moved, to);
  return [ev('licence_transferred', [['licence', String(id)], ['from', addressToString(sender)], ['to', addressToString(to)]])];
}
