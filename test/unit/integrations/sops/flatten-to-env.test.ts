import { expect } from 'chai';
import { decryptSops } from '../../../../src/integrations/sops/decrypt-sops.js';
import { flattenToEnv } from '../../../../src/integrations/sops/flatten-to-env.js';
import { identitiesIn, readSops } from './sops-fixtures.js';

describe('flattenToEnv', function () {
  it('turns top-level scalars into env strings and names the nested keys it left out', async () => {
    const doc = await decryptSops(readSops('humphd-sops-age/secret.enc.yaml'), 'yaml', identitiesIn('humphd-sops-age/key.txt'));
    expect(flattenToEnv(doc.data)).to.deep.equal({
      env: { secret: 'this is a secret', string: 'string', int: '7', float: '3.14', boolean: 'true' },
      skipped: [{ key: 'complex', reason: 'nested' }],
    });
  });

  it('writes numbers without exponent, skips nulls, and keeps a __proto__ key as a variable', () => {
    const data = JSON.parse('{"BIG": 1e21, "SMALL": 1e-7, "NOTHING": null, "LIST": [1], "__proto__": "x"}') as Record<string, unknown>;
    const { env, skipped } = flattenToEnv(data);
    expect(env).to.deep.equal(Object.fromEntries([['BIG', '1000000000000000000000'], ['SMALL', '0.0000001'], ['__proto__', 'x']]));
    expect(Object.getPrototypeOf(env)).to.equal(Object.prototype);
    expect(skipped).to.deep.equal([
      { key: 'NOTHING', reason: 'null' },
      { key: 'LIST', reason: 'nested' },
    ]);
  });
});
