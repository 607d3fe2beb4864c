import t from 'tap';
import { rm, readFile } from 'node:fs/promises';
import { isChainError } from '../../../lib/index.ts';
import { homePaths, initHome } from '../../../node/home.ts';

const opts = (home: string) => ({ home, chainId: 'home-test', devPassword: 'pw', genesisTimeMs: 1_767_225_600_000n, scryptN: 1024 });

t.test('init refuses a complete home and finishes an interrupted one with the same keys', async (t) => {
  const home = t.testdir();
  const first = await initHome(opts(home));
  let code = 'no error';
  try {
    await initHome(opts(home));
  } catch (e: unknown) {
    code = isChainError(e) ? e.code : String(e);
  }
  t.equal(code, 'HOME_EXISTS');

  // Simulate an init cut off before genesis.json was written.
  await rm(homePaths(home).genesis);
  const second = await initHome(opts(home));
  t.same(second.validator.address, first.validator.address, 'validator key reused');
  t.equal(second.devAddress, first.devAddress, 'dev key reused');
  const genesis = JSON.parse(await readFile(homePaths(home).genesis, 'utf8')) as { accounts: Array<{ address: string }> };
  t.equal(genesis.accounts[0]?.address, first.devAddress);
});
