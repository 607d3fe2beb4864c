/**
 * The client SDK: a typed RPC client plus, for convenience, what a client needs to build and sign
 * transactions (from runtime/tx.ts) and to read addresses and amounts (from lib/).
 */
export * from './client.ts';
export * from './transactions.ts';
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
