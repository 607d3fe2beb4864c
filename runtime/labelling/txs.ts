/**
 * Labelling transaction bodies and their wire forms (the `payload` of a Tx whose `kind` is one of
 * LABELLING_KIND). See docs/spec/labelling.md §Transactions.
 */
import { CodecError, Reader, amountToBytes, type Encodable } from '../../lib/index.ts';
import { ITEM_URI_BYTES_MAX, parseTaskSpec, taskSpecToWire, type TaskSpec } from './records.ts';

/** Wire numbers. STATE-BREAKING, never reused. */
export const LABELLING_KIND = {
  taskCreate: 20,
  taskAddItems: 21,
  taskFund: 22,
  taskCancel: 23,
  annotatorStake: 24,
  annotatorUnstake: 25,
  labelCommit: 26,
  labelReveal: 27,
  goldReveal: 28,
  dispute: 29,
} as const;

export const ITEMS_PER_TX_MAX = 2_000;
export const LABELS_PER_TX_MAX = 10_000;
export const GOLD_PER_TX_MAX = 1_000;
export const SALT_BYTES_MIN = 16;
export const SALT_BYTES_MAX = 32;

export type NewItem = { contentHash: Uint8Array; uri: string };
export type LabelEntry = { item: number; label: number; salt: Uint8Array };
export type GoldEntry = { item: number; label: number; salt: Uint8Array; index: number; proof: Uint8Array[] };

export type LabellingBody =
  | { kind: 'taskCreate'; spec: TaskSpec }
  | { kind: 'taskAddItems'; task: number; items: NewItem[] }
  | { kind: 'taskFund'; task: number }
  | { kind: 'taskCancel'; task: number }
  | { kind: 'annotatorStake'; amount: bigint }
  | { kind: 'annotatorUnstake'; amount: bigint }
  | { kind: 'labelCommit'; task: number; round: number; root: Uint8Array; count: number }
  | { kind: 'labelReveal'; task: number; round: number; entries: LabelEntry[] }
  | { kind: 'goldReveal'; task: number; goldCount: number; entries: GoldEntry[] }
  | { kind: 'dispute'; task: number; item: number; bond: bigint };

export type LabellingKindName = LabellingBody['kind'];

export function isLabellingKind(kind: number): boolean {
  return kind >= LABELLING_KIND.taskCreate && kind <= LABELLING_KIND.dispute;
}

export function labellingBodyToWire(body: LabellingBody): [number, Encodable[]] {
  switch (body.kind) {
    case 'taskCreate':
      return [LABELLING_KIND.taskCreate, [taskSpecToWire(body.spec)]];
    case 'taskAddItems':
      return [LABELLING_KIND.taskAddItems, [body.task, body.items.map((i) => [i.contentHash, i.uri])]];
    case 'taskFund':
      return [LABELLING_KIND.taskFund, [body.task]];
    case 'taskCancel':
      return [LABELLING_KIND.taskCancel, [body.task]];
    case 'annotatorStake':
      return [LABELLING_KIND.annotatorStake, [amountToBytes(body.amount)]];
    case 'annotatorUnstake':
      return [LABELLING_KIND.annotatorUnstake, [amountToBytes(body.amount)]];
    case 'labelCommit':
      return [LABELLING_KIND.labelCommit, [body.task, body.round, body.root, body.count]];
    case 'labelReveal':
      return [LABELLING_KIND.labelReveal, [body.task, body.round, body.entries.map((e) => [e.item, e.label, e.salt])]];
    case 'goldReveal':
      return [
        LABELLING_KIND.goldReveal,
        [body.task, body.goldCount, body.entries.map((e) => [e.item, e.label, e.salt, e.index, e.proof])],
      ];
    case 'dispute':
      return [LABELLING_KIND.dispute, [body.task, body.item, amountToBytes(body.bond)]];
  }
}

function salt(r: Reader, field: string): Uint8Array {
  const s = r.bytesMax(field, SALT_BYTES_MAX);
  if (s.length < SALT_BYTES_MIN) {
    throw new CodecError(
      { code: 'CODEC_WRONG_LENGTH', what: 'LabelEntry', field, expected: SALT_BYTES_MIN, actual: s.length },
      `${field}: a salt has ${SALT_BYTES_MIN}–${SALT_BYTES_MAX} bytes`,
    );
  }
  return s;
}

export function parseLabellingBody(kind: number, payload: unknown): LabellingBody {
  switch (kind) {
    case LABELLING_KIND.taskCreate: {
      const r = Reader.array(payload, 'TaskCreate', 1);
      return { kind: 'taskCreate', spec: parseTaskSpec(r.raw()) };
    }
    case LABELLING_KIND.taskAddItems: {
      const r = Reader.array(payload, 'TaskAddItems', 2);
      const task = r.u32('task');
      const items = r.list('items', ITEMS_PER_TX_MAX, (x) => {
        const ir = Reader.array(x, 'NewItem', 2);
        return { contentHash: ir.bytes('contentHash', 32), uri: ir.str('uri', ITEM_URI_BYTES_MAX) };
      });
      return { kind: 'taskAddItems', task, items };
    }
    case LABELLING_KIND.taskFund:
      return { kind: 'taskFund', task: Reader.array(payload, 'TaskFund', 1).u32('task') };
    case LABELLING_KIND.taskCancel:
      return { kind: 'taskCancel', task: Reader.array(payload, 'TaskCancel', 1).u32('task') };
    case LABELLING_KIND.annotatorStake:
      return { kind: 'annotatorStake', amount: Reader.array(payload, 'AnnotatorStake', 1).amount('amount') };
    case LABELLING_KIND.annotatorUnstake:
      return { kind: 'annotatorUnstake', amount: Reader.array(payload, 'AnnotatorUnstake', 1).amount('amount') };
    case LABELLING_KIND.labelCommit: {
      const r = Reader.array(payload, 'LabelCommit', 4);
      return { kind: 'labelCommit', task: r.u32('task'), round: r.u32('round'), root: r.bytes('root', 32), count: r.u32('count', LABELS_PER_TX_MAX) };
    }
    case LABELLING_KIND.labelReveal: {
      const r = Reader.array(payload, 'LabelReveal', 3);
      const task = r.u32('task');
      const round = r.u32('round');
      const entries = r.list('entries', LABELS_PER_TX_MAX, (x) => {
        const er = Reader.array(x, 'LabelEntry', 3);
        return { item: er.u32('item'), label: er.u32('label'), salt: salt(er, 'salt') };
      });
      return { kind: 'labelReveal', task, round, entries };
    }
    case LABELLING_KIND.goldReveal: {
      const r = Reader.array(payload, 'GoldReveal', 3);
      const task = r.u32('task');
      const goldCount = r.u32('goldCount');
      const entries = r.list('entries', GOLD_PER_TX_MAX, (x) => {
        const er = Reader.array(x, 'GoldEntry', 5);
        return {
          item: er.u32('item'),
          label: er.u32('label'),
          salt: salt(er, 'salt'),
          index: er.u32('index'),
          proof: er.list('proof', 32, (p, i) => Reader.array([p], 'GoldEntry', 1).bytes(`proof[${i}]`, 32)),
        };
      });
      return { kind: 'goldReveal', task, goldCount, entries };
    }
    case LABELLING_KIND.dispute: {
      const r = Reader.array(payload, 'Dispute', 3);
      return { kind: 'dispute', task: r.u32('task'), item: r.u32('item'), bond: r.amount('bond') };
    }
    default:
      throw new CodecError(
        { code: 'CODEC_WRONG_TYPE', what: 'Tx', field: 'kind', expected: 'a known transaction kind' },
        `Tx.kind: unknown transaction kind ${kind}`,
      );
  }
}
