/** The bridge parameters live in state/bridgeParams.ts (genesis writes them); re-exported here. */
export {
  DEFAULT_BRIDGE_PARAMS,
  WITHDRAWALS_PER_CHECKPOINT_CEILING,
  bridgeParamsProblem,
  encodeBridgeParams,
  loadBridgeParams,
  saveBridgeParams,
  type BridgeParams,
} from '../../state/index.ts';
