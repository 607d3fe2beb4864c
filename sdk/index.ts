/**
 * The client SDK: a typed RPC client plus, for convenience, what a client needs to build and sign
 * transactions (from runtime/tx.ts) and to read addresses and amounts (from lib/).
 */
export * from './client.ts';
export * from './transactions.ts';
export * from './labelling.ts';
export * from './staking.ts';
export * from './passport.ts';
export {
  TX_KIND,
  decodeSignedTx,
  encodeTx,
  signTx,
  txSigningBytes,
  type SignedTx,
  type TransferBody,
  type Tx,
  type TxBody,
  type TxKind,
  LABELLING_KIND,
  GOLD_PER_TX_MAX,
  ITEMS_PER_TX_MAX,
  LABELS_PER_TX_MAX,
  goldLeaf,
  labelLeaf,
  parseLabellingBody,
  type GoldEntry,
  type LabelEntry,
  type LabellingBody,
  type NewItem,
  type TaskSpec,
  STAKING_KIND,
  MONIKER_BYTES_MAX,
  parseStakingBody,
  type SignedVote,
  type StakingBody,
  PASSPORT_KIND,
  LICENCE_KIND,
  USE,
  parsePassportBody,
  type OfferTerms,
  type PassportBody,
  type PassportSpec,
} from '../runtime/index.ts';
export {
  ADDRESS_HRP,
  ONE_TAG,
  addressFromPublicKey,
  addressFromString,
  addressToString,
  bytesToHex,
  formatTag,
  hexToBytes,
  parseTag,
  parseUnits,
} from '../lib/index.ts';
export {
  Keyring,
  KeyringError,
  readPassword,
  DEFAULT_SCRYPT_N,
  MIN_SCRYPT_N,
  type KeyInfo,
  type KeyListEntry,
  type UnreadableKey,
  type KeyFile,
  type KeyringOpts,
  type ReadPasswordOpts,
  type KeyringErrorCode,
} from './keyring.ts';
export * from './bridge.ts';
