/**
 * The labelling protocol's read endpoints (docs/rpc.md §Labelling): parameters, tasks, items,
 * rounds, assignments and annotators, answered from the committed state (`RpcDeps.state()`) with
 * the runtime's own record decoders. Each handler reads everything in one synchronous turn, so a
 * reply is consistent with the `height` it reports.
 */
import type { FastifyPluginAsync } from 'fastify';
import { U32_MAX, addressFromString, addressToString } from '../../lib/index.ts';
import {
  COUNT_UNIT,
  epochOf,
  loadAnnotator,
  loadAssignment,
  loadItemWithAnswers,
  loadLabellingParams,
  loadReputation,
  loadRound,
  loadTask,
  onProbation,
  quality,
  roundItemAt,
  type Round,
  type Task,
} from '../../runtime/index.ts';
import { DEFAULT_PARAMS, PARAMS_KEY, decodeParams, type StateReader } from '../../state/index.ts';
import { RpcError } from '../errors.ts';
import { CLASSES_PARAM, ITEMS_PAGE_MAX, LIMIT_PARAM, ROUNDS_SCAN_MAX, U32_PARAM, params } from '../labellingSchemas.ts';
import { ADDRESS_PARAM, ERROR_REPLIES, ref } from '../schemas.ts';
import {
  annotatorToJson,
  itemToJson,
  labellingParamsToJson,
  roundToJson,
  seatAssignmentToJson,
  taskToJson,
  type AnnotatorAssignmentsJson,
  type AnnotatorJson,
  type AssignmentJson,
  type ItemReplyJson,
  type ItemJson,
  type ItemsPageJson,
  type LabellingParamsJson,
  type RoundJson,
  type SeatAssignmentJson,
  type TaskJson,
} from '../labellingViews.ts';
import type { RoutesOpts } from './status.ts';

/** A decimal u32 from a path or query parameter (the schema has checked the digits). */
function u32(text: string, name: string, part: 'params' | 'querystring'): number {
  const n = Number(text);
  if (n > U32_MAX) {
    const issues = [{ path: `/${name}`, message: `must be <= ${U32_MAX}` }];
    throw new RpcError({ code: 'RPC_INVALID_REQUEST', part, issues }, `invalid ${part}: ${name} must be <= ${U32_MAX}`);
  }
  return n;
}

function taskOf(state: StateReader, id: number): Task {
  const task = loadTask(state, id);
  if (task === null) throw new RpcError({ code: 'TASK_NOT_FOUND', task: id }, `no task ${id}`);
  return task;
}

function roundOf(state: StateReader, task: number, round: number): Round {
  const r = loadRound(state, task, round);
  if (r === null) throw new RpcError({ code: 'ROUND_NOT_FOUND', task, round }, `task ${task} has no round ${round}`);
  return r;
}

function itemOf(state: StateReader, task: number, index: number): ItemJson {
  const item = loadItemWithAnswers(state, task, index);
  if (item === null) throw new RpcError({ code: 'ITEM_NOT_FOUND', task, item: index }, `task ${task} has no item ${index}`);
  return itemToJson(task, index, item);
}

type TaskParams = { id: string };
type ItemParams = TaskParams & { index: string };
type RoundParams = TaskParams & { round: string };
type AssignmentParams = RoundParams & { address: string };

const TASK_ID = { ...U32_PARAM, description: 'task id' };
const ROUND_NO = { ...U32_PARAM, description: 'round number' };
const TASK_PARAMS = params({ id: TASK_ID });
const ITEM_PARAMS = params({ id: TASK_ID, index: { ...U32_PARAM, description: 'item index' } });
const ROUND_PARAMS = params({ id: TASK_ID, round: ROUND_NO });
const ASSIGNMENT_PARAMS = params({ id: TASK_ID, round: ROUND_NO, address: ADDRESS_PARAM });
const ADDRESS_PARAMS = params({ address: ADDRESS_PARAM });

const ITEMS_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cursor: { ...U32_PARAM, default: '0', description: 'first item index of the page' },
    limit: { ...LIMIT_PARAM, default: String(ITEMS_PAGE_MAX) },
  },
} as const;

const ANNOTATOR_QUERY = { type: 'object', additionalProperties: false, required: ['classes'], properties: { classes: CLASSES_PARAM } } as const;

const ASSIGNMENTS_QUERY = {
  type: 'object',
  additionalProperties: false,
  required: ['task'],
  properties: {
    task: { ...U32_PARAM, description: 'task id' },
    cursor: { ...U32_PARAM, default: '0', description: `first round to scan; one request scans at most ${ROUNDS_SCAN_MAX} rounds` },
  },
} as const;

export const labellingRoutes: FastifyPluginAsync<RoutesOpts> = async (app, { deps }) => {
  app.get(
    '/v1/labelling/params',
    {
      schema: { tags: ['labelling'], summary: 'Labelling parameters and transaction limits', response: { 200: ref('LabellingParams'), ...ERROR_REPLIES } },
    },
    async (): Promise<LabellingParamsJson> => {
      const { height, reader } = deps.state();
      const chainParams = reader.get(PARAMS_KEY);
      return labellingParamsToJson(height, loadLabellingParams(reader), chainParams === undefined ? DEFAULT_PARAMS : decodeParams(chainParams));
    },
  );

  app.get<{ Params: TaskParams }>(
    '/v1/tasks/:id',
    {
      schema: { tags: ['labelling'], summary: 'A task: status, spec, escrow and progress', params: TASK_PARAMS, response: { 200: ref('Task'), ...ERROR_REPLIES } },
    },
    async (req): Promise<TaskJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const { height, reader } = deps.state();
      return taskToJson(height, taskOf(reader, id));
    },
  );

  app.get<{ Params: TaskParams; Querystring: { cursor: string; limit: string } }>(
    '/v1/tasks/:id/items',
    {
      schema: {
        tags: ['labelling'],
        summary: `A page of a task's items (at most ${ITEMS_PAGE_MAX})`,
        params: TASK_PARAMS,
        querystring: ITEMS_QUERY,
        response: { 200: ref('ItemsPage'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<ItemsPageJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const cursor = u32(req.query.cursor, 'cursor', 'querystring');
      const limit = Number(req.query.limit);
      const { height, reader } = deps.state();
      const task = taskOf(reader, id);
      const end = Math.min(task.itemsAdded, cursor + limit);
      const items: ItemJson[] = [];
      for (let i = cursor; i < end; i++) items.push(itemOf(reader, id, i));
      return { height, task: id, total: task.itemsAdded, items, nextCursor: end < task.itemsAdded ? end : null };
    },
  );

  app.get<{ Params: ItemParams }>(
    '/v1/tasks/:id/items/:index',
    {
      schema: {
        tags: ['labelling'],
        summary: 'An item: seats and answers, gold, consensus label and confidence, dispute',
        params: ITEM_PARAMS,
        response: { 200: ref('ItemReply'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<ItemReplyJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const index = u32(req.params.index, 'index', 'params');
      const { height, reader } = deps.state();
      taskOf(reader, id);
      return { height, ...itemOf(reader, id, index) };
    },
  );

  app.get<{ Params: RoundParams }>(
    '/v1/tasks/:id/rounds/:round',
    {
      schema: {
        tags: ['labelling'],
        summary: 'A round: stage, commit and reveal windows, item count, dispute',
        params: ROUND_PARAMS,
        response: { 200: ref('Round'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<RoundJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const roundNo = u32(req.params.round, 'round', 'params');
      const { height, reader } = deps.state();
      taskOf(reader, id);
      const round = roundOf(reader, id, roundNo);
      return roundToJson(height, round, round.dispute === null ? null : roundItemAt(reader, id, round, 0));
    },
  );

  app.get<{ Params: AssignmentParams }>(
    '/v1/tasks/:id/rounds/:round/assignments/:address',
    {
      schema: {
        tags: ['labelling'],
        summary: "An annotator's items in a round, its commit state and fee budget",
        params: ASSIGNMENT_PARAMS,
        response: { 200: ref('Assignment'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<AssignmentJson> => {
      const id = u32(req.params.id, 'id', 'params');
      const roundNo = u32(req.params.round, 'round', 'params');
      const who = addressFromString(req.params.address);
      const { height, reader } = deps.state();
      const task = taskOf(reader, id);
      const round = roundOf(reader, id, roundNo);
      const a = loadAssignment(reader, id, roundNo, who);
      const annotator = addressToString(who);
      if (a === null) {
        throw new RpcError({ code: 'ASSIGNMENT_NOT_FOUND', task: id, round: roundNo, annotator }, `${annotator} holds no seats in task ${id} round ${roundNo}`);
      }
      return { height, task: id, annotator, ...seatAssignmentToJson(height, round, a, task.spec.feePerSeat) };
    },
  );

  app.get<{ Params: { address: string }; Querystring: { classes: string } }>(
    '/v1/annotators/:address',
    {
      schema: {
        tags: ['labelling'],
        summary: "An annotator: stake, unbonding, probation, gold record, earnings and K-class reputation",
        params: ADDRESS_PARAMS,
        querystring: ANNOTATOR_QUERY,
        response: { 200: ref('Annotator'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<AnnotatorJson> => {
      const who = addressFromString(req.params.address);
      const classes = Number(req.query.classes);
      const { height, reader } = deps.state();
      const a = loadAnnotator(reader, who);
      if (a === null) {
        const annotator = addressToString(who);
        throw new RpcError({ code: 'ANNOTATOR_NOT_FOUND', annotator }, `${annotator} has never staked as an annotator`);
      }
      const p = loadLabellingParams(reader);
      const reputation = loadReputation(reader, who, classes, epochOf(height, p), p);
      const qualityQ16 = Number(quality(a, reputation, classes, p));
      return annotatorToJson(height, who, a, onProbation(a, p), { classes, reputation, countUnit: COUNT_UNIT, qualityQ16 });
    },
  );

  app.get<{ Params: { address: string }; Querystring: { task: string; cursor: string } }>(
    '/v1/annotators/:address/assignments',
    {
      schema: {
        tags: ['labelling'],
        summary: `The rounds of a task where the annotator holds seats (scans at most ${ROUNDS_SCAN_MAX} rounds per request)`,
        params: ADDRESS_PARAMS,
        querystring: ASSIGNMENTS_QUERY,
        response: { 200: ref('AnnotatorAssignments'), ...ERROR_REPLIES },
      },
    },
    async (req): Promise<AnnotatorAssignmentsJson> => {
      const who = addressFromString(req.params.address);
      const id = u32(req.query.task, 'task', 'querystring');
      const cursor = u32(req.query.cursor, 'cursor', 'querystring');
      const { height, reader } = deps.state();
      const task = taskOf(reader, id);
      const end = Math.min(task.rounds, cursor + ROUNDS_SCAN_MAX);
      const rounds: SeatAssignmentJson[] = [];
      for (let r = cursor; r < end; r++) {
        const a = loadAssignment(reader, id, r, who);
        const round = loadRound(reader, id, r);
        if (a !== null && round !== null) rounds.push(seatAssignmentToJson(height, round, a, task.spec.feePerSeat));
      }
      return { height, task: id, annotator: addressToString(who), rounds, nextCursor: end < task.rounds ? end : null };
    },
  );
};
