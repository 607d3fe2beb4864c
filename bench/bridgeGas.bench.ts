/**
 * Gas of the BNB Chain bridge contract on the in-process EVM (@ethereumjs/vm, Cancun): checkpoint
 * submission for 4, 21, 50 and 100 equal-power validators (the smallest quorum, floor(2N/3) + 1
 * signatures, and all N), a checkpoint that rotates to a new set of the same size, a withdrawal
 * proof at several tree depths, and a deposit. Whole-transaction gas: intrinsic and calldata included.
 * Gas is deterministic: one run is the figure.
 */
import { validatorSetHash, type BridgeWithdrawal } from '../bridge/index.ts';
import { BridgeFixture, TAG, hex, makeValidators, makeWithdrawal } from '../test/bridge/fixtures/bridgeFixture.ts';

async function checkpointGas(n: number): Promise<Record<string, number>> {
  const f = await BridgeFixture.deploy({ powers: Array.from({ length: n }, () => 1n) });
  await f.checkpoint(); // the first checkpoint: later ones are the steady state
  const quorum = Math.floor((2 * n) / 3) + 1;
  const cp = f.nextCheckpoint();
  const minimal = await f.submit(cp, f.sign(f.digest(cp), f.group.validators.slice(0, quorum)));
  if (minimal.reverted) throw new Error(`minimal quorum refused: ${minimal.error?.name}`);
  const cpAll = f.nextCheckpoint();
  const all = await f.submit(cpAll);
  if (all.reverted) throw new Error(`full set refused: ${all.error?.name}`);
  const next = makeValidators(`rotated-${n}`, Array.from({ length: n }, () => 1n), 2n);
  const cpRotate = f.nextCheckpoint([], { nextValidatorSetId: 2n, nextValidatorSetHash: validatorSetHash(next.set) });
  const rotate = await f.submit(cpRotate, f.sign(f.digest(cpRotate), f.group.validators.slice(0, quorum)), f.group.set, next.set);
  if (rotate.reverted) throw new Error(`rotation refused: ${rotate.error?.name}`);
  return { signatures: quorum, gasQuorum: Number(minimal.gasUsed), gasAllSigned: Number(all.gasUsed), gasRotation: Number(rotate.gasUsed) };
}

async function withdrawalGas(leaves: number): Promise<number> {
  const f = await BridgeFixture.deploy({ perTxCap: 10n ** 30n, epochCap: 10n ** 30n, largeWithdrawal: 10n ** 30n });
  await f.bridgeCall(f.users[0]!, 'deposit', [hex(new Uint8Array(20).fill(1)), 100_000n * TAG]);
  const to = f.address(f.users[1]!);
  const ws: BridgeWithdrawal[] = Array.from({ length: leaves }, (_, i) => makeWithdrawal(BigInt(i + 1), to, TAG));
  await f.checkpoint(ws);
  await f.withdrawFrom(1n, ws, 0); // the first release warms the epoch slots, as on a live bridge
  const r = await f.withdrawFrom(1n, ws, leaves - 1);
  if (r.reverted) throw new Error(`withdrawal refused: ${r.error?.name}`);
  return Number(r.gasUsed);
}

async function depositGas(): Promise<number> {
  const f = await BridgeFixture.deploy();
  await f.bridgeCall(f.users[0]!, 'deposit', [hex(new Uint8Array(20).fill(1)), TAG]);
  const r = await f.bridgeCall(f.users[1]!, 'deposit', [hex(new Uint8Array(20).fill(2)), TAG]);
  return Number(r.gasUsed);
}

export async function run(): Promise<Record<string, unknown>> {
  const checkpoint: Record<string, unknown> = {};
  for (const n of [4, 21, 50, 100]) checkpoint[`validators${n}`] = await checkpointGas(n);
  const withdrawal: Record<string, number> = {};
  for (const leaves of [2, 16, 1024]) withdrawal[`leaves${leaves}`] = await withdrawalGas(leaves);
  return { checkpoint, withdrawal, depositGas: await depositGas() };
}
