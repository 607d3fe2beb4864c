/** Small helpers shared by the RPC tests. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildServer, type RpcDeps, type RpcOpts } from '../../../rpc/index.ts';
import { createFake, type Fake } from './fakeDeps.ts';

export type Served = Fake & { app: FastifyInstance };

/** A server over a fresh fake chain; closed by the caller's teardown. */
export async function serve(
  t: { teardown: (fn: () => unknown) => void },
  overrides: Partial<RpcDeps> = {},
  opts: Partial<RpcOpts> = {},
): Promise<Served> {
  const fake = createFake(overrides);
  const app = await buildServer(fake.deps, { logger: false, ...opts });
  t.teardown(() => app.close());
  return { ...fake, app };
}

export type ErrorBody = { error: { code: string; message: string; details: Record<string, unknown> } };

export function errorOf(res: LightMyRequestResponse): ErrorBody['error'] {
  return res.json<ErrorBody>().error;
}
