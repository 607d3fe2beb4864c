/** GET /openapi.json: a parseable OpenAPI 3 document listing every route. */
import t from 'tap';
import { serve } from './helpers.ts';

/** Every route the server has, as the document spells it. */
const ROUTES: Array<[method: string, path: string]> = [
  ['get', '/health'],
  ['get', '/status'],
  ['get', '/ready'],
  ['get', '/v1/stream'],
  ['post', '/v1/txs'],
  ['get', '/v1/txs/{hash}'],
  ['get', '/v1/accounts/{address}'],
  ['get', '/v1/blocks/latest'],
  ['get', '/v1/blocks/{height}'],
  ['get', '/v1/blocks/by-hash/{hash}'],
  ['get', '/v1/blocks/{height}/events'],
  ['get', '/v1/blocks'],
  ['get', '/v1/events'],
  ['get', '/v1/accounts/{address}/txs'],
  ['get', '/v1/state/proof'],
  ['get', '/v1/state/proof/account/{address}'],
  ['get', '/v1/labelling/params'],
  ['get', '/v1/tasks/{id}'],
  ['get', '/v1/tasks/{id}/items'],
  ['get', '/v1/tasks/{id}/items/{index}'],
  ['get', '/v1/tasks/{id}/rounds/{round}'],
  ['get', '/v1/tasks/{id}/rounds/{round}/assignments/{address}'],
  ['get', '/v1/annotators/{address}'],
  ['get', '/v1/annotators/{address}/assignments'],
  ['get', '/v1/staking/params'],
  ['get', '/v1/validators'],
  ['get', '/v1/validators/{address}'],
  ['get', '/v1/validator-set'],
  ['get', '/v1/accounts/{address}/delegations'],
  ['get', '/v1/accounts/{address}/unbondings'],
  ['get', '/v1/passports/{id}'],
  ['get', '/v1/passports/{id}/versions'],
  ['get', '/v1/passports/{id}/versions/{version}'],
  ['get', '/v1/passports/{id}/versions/{version}/contributors'],
  ['get', '/v1/accounts/{address}/passports'],
  ['get', '/v1/tasks/{id}/passports'],
  ['get', '/v1/passports/{id}/offers'],
  ['get', '/v1/offers/{id}'],
  ['get', '/v1/licences/{id}'],
  ['get', '/v1/passports/{id}/licences'],
  ['get', '/v1/accounts/{address}/licences'],
  ['get', '/v1/passports/{id}/licensed/{address}'],
  ['get', '/v1/bridge'],
  ['get', '/v1/bridge/deposits/{nonce}'],
  ['get', '/v1/bridge/deposits'],
  ['get', '/v1/bridge/withdrawals/{nonce}'],
  ['get', '/v1/bridge/withdrawals'],
  ['get', '/v1/bridge/checkpoints/{number}'],
  ['get', '/v1/bridge/checkpoints'],
  ['get', '/openapi.json'],
];

type Operation = { responses: Record<string, unknown>; parameters?: Array<{ name: string; in: string }>; requestBody?: { content: Record<string, unknown> } };
type Doc = { openapi: string; info: { title: string; version: string }; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

t.test('the document parses and lists every route', async (t) => {
  const { app } = await serve(t);
  const res = await app.inject({ url: '/openapi.json' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  const doc = JSON.parse(res.body) as Doc;
  t.match(doc.openapi, /^3\.0\.\d+$/);
  t.equal(doc.info.title, 'Tagger chain RPC');

  const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)).sort();
  t.strictSame(listed, ROUTES.map(([m, p]) => `${m} ${p}`).sort(), 'exactly the routes of the server');
  for (const [method, path] of ROUTES) {
    const fastifyPath = path.replace(/\{(\w+)\}/g, ':$1');
    t.ok(app.hasRoute({ method: method.toUpperCase(), url: fastifyPath }), `${method} ${path} is served`);
    const op = doc.paths[path]?.[method];
    t.ok(op?.responses['200'] ?? op?.responses['202'], `${method} ${path} documents its success reply`);
    if (path !== '/openapi.json') t.ok(op?.responses['4XX'] && op.responses['5XX'], `${method} ${path} documents its errors`);
    for (const param of path.match(/\{\w+\}/g) ?? []) {
      t.ok(op?.parameters?.some((p) => p.in === 'path' && `{${p.name}}` === param), `${method} ${path} documents ${param}`);
    }
  }
  const submit = doc.paths['/v1/txs']?.['post']?.requestBody?.content ?? {};
  t.strictSame(Object.keys(submit).sort(), ['application/json', 'application/octet-stream'], 'both body forms are documented');
  t.match(submit['application/octet-stream'], { schema: { type: 'string', format: 'binary' } });

  const names = Object.keys(doc.components.schemas);
  const expected = ['Block', 'Tx', 'Receipt', 'Status', 'Account', 'StateProof', 'ErrorReply'];
  expected.push('StakingParams', 'Validator', 'ValidatorReply', 'ValidatorsPage', 'SetMember', 'ValidatorSet', 'Delegation', 'DelegationsPage', 'Unbonding', 'UnbondingsPage');
  expected.push('LabellingParams', 'Task', 'TaskSpec', 'Item', 'ItemReply', 'ItemsPage', 'Round', 'Assignment', 'SeatAssignment', 'AnnotatorAssignments', 'Annotator');
  for (const name of expected) t.ok(names.includes(name), `components.schemas.${name}`);
  for (const ref of refs(doc)) {
    const target = ref.replace('#/components/schemas/', '');
    t.ok(ref.startsWith('#/components/schemas/') && names.includes(target), `${ref} resolves`);
  }
  t.notOk(names.some((n) => n.startsWith('def-')), 'shared schemas are named by their $id');
});
