/**
 * The bridge gauges of node/metrics.ts: after each recorded commit they hold the committed state's
 * bridge counters (bridged supply in TAG, withdrawals not yet checkpointed, the last checkpoint),
 * here over a chain driven by the real runtime (test/unit/bridge/harness.ts).
 */
import t from 'tap';
import { NodeMetrics } from '../../../node/metrics.ts';
import type { CommittedBlockInfo } from '../../../node/blockExecutor.ts';
import { BridgeChain, TAG } from '../bridge/harness.ts';

const EVM = new Uint8Array(20).fill(0xa1);

function gauge(text: string, name: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(name.length + 1));
}

t.test('bridge gauges follow the committed state after each commit', async (t) => {
  const c = new BridgeChain({ validators: 3 });
  const metrics = new NodeMetrics({
    status: () => ({ chainId: 'x', nodeId: 'n', height: c.height, blockHash: new Uint8Array(32), stateRoot: new Uint8Array(32), timeMs: c.timeMs, syncing: false, mempoolTxs: 0, mempoolBytes: 0, validatorAddress: null }),
    round: () => null,
    p2p: () => null,
    inboxDepth: () => null,
    stream: () => ({ subscribers: 0, slowDropped: 0, rejected: 0, entries: 0, bytes: 0 }),
    state: () => c.state,
  });
  const commit = (): void => metrics.recordCommit({ height: c.height, hash: new Uint8Array(32), block: { header: { timeMs: c.timeMs } }, txs: [], receipts: [] } as unknown as CommittedBlockInfo);
  const read = async (): Promise<Array<number | null>> => {
    const { body } = await metrics.render();
    return ['tagger_bridge_supply_bridged', 'tagger_bridge_withdrawals_pending', 'tagger_bridge_last_checkpoint'].map((n) => gauge(body, n));
  };

  commit();
  t.strictSame(await read(), [0, 0, 0]);
  c.registerAll();
  c.attest([0, 1, 2], c.depositBody(1, c.user.address, 50n * TAG)); // height 3
  c.send(c.user, { kind: 'withdraw', recipient: EVM, amount: 2n * TAG }); // 4
  commit();
  t.strictSame(await read(), [48, 1, 0]);
  c.advanceTo(5); // checkpoint 1 takes the withdrawal
  c.send(c.user, { kind: 'withdraw', recipient: EVM, amount: TAG / 2n }); // 6
  commit();
  t.strictSame(await read(), [47.5, 1, 1]);
});
