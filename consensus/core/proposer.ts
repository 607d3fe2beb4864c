/**
 * Stake-weighted proposer rotation (CometBFT's priority algorithm, bigint, deterministic).
 * Each step: every validator's priority grows by its power; the highest priority proposes (ties:
 * the smaller address) and loses the total power. docs/spec/consensus.md §Proposer (P1).
 */
import { compareBytes } from '../../lib/index.ts';

export type CoreValidator = { address: Uint8Array; power: bigint };

/** Advances `priorities` (aligned with `validators`) by one step; returns the proposer's index. */
export function stepPriorities(validators: readonly CoreValidator[], priorities: bigint[]): number {
  let total = 0n;
  for (const v of validators) total += v.power;
  let best = -1;
  for (let i = 0; i < validators.length; i++) {
    priorities[i] = (priorities[i] ?? 0n) + validators[i]!.power;
    if (
      best < 0 ||
      priorities[i]! > priorities[best]! ||
      (priorities[i] === priorities[best] && compareBytes(validators[i]!.address, validators[best]!.address) < 0)
    ) {
      best = i;
    }
  }
  priorities[best] = priorities[best]! - total;
  return best;
}

/** The proposer of `round`, given the priorities at the start of the height (round 0 = one step). */
export function proposerIndex(validators: readonly CoreValidator[], start: readonly bigint[], round: number): number {
  const p = [...start];
  let idx = 0;
  for (let r = 0; r <= round; r++) idx = stepPriorities(validators, p);
  return idx;
}

/** The priorities after `steps` steps. */
export function advancePriorities(validators: readonly CoreValidator[], start: readonly bigint[], steps: number): bigint[] {
  const p = [...start];
  for (let r = 0; r < steps; r++) stepPriorities(validators, p);
  return p;
}
