// A new secrets file from a `.sops.yaml` creation rule: the rule is picked as sops picks it, the data key is
// encrypted to each of its age recipients, and the first value added opens for every one of them.
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { expect } from 'chai';
import { emptySopsYaml } from '../../../../src/integrations/sops/create-sops-yaml.js';
import { decryptSops } from '../../../../src/integrations/sops/decrypt-sops.js';
import { editSopsYaml } from '../../../../src/integrations/sops/edit-sops-yaml.js';
import { creationRuleFor } from '../../../../src/integrations/sops/sops-config.js';
import { SopsError } from '../../../../src/integrations/sops/sops-error.js';

const NOW = new Date('2026-12-07T01:02:03Z');
const A = 'age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr';
const B = 'age19j4d6v9j7rx5fs629fu387qz4zmlpsqjexa4s08tkfrrmfdl5cwqjlaupd';

function refusal(run: () => unknown): SopsError {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(SopsError);
    return err as SopsError;
  }
  return expect.fail('should throw');
}

describe('creationRuleFor', function () {
  it('takes the first rule whose path_regex matches, and age as a comma-separated string or a list', () => {
    const config = `creation_rules:\n  - path_regex: ^prod/.*\n    age: ${B}\n  - path_regex: secrets\\.enc\\.yaml$\n    age: "${A}, ${B},"\n    encrypted_regex: ^API_\n  - age: [${B}]\n`;
    expect(creationRuleFor(config, 'shop/secrets.enc.yaml')).to.deep.equal({ recipients: [A, B], rule: { field: 'encrypted_regex', value: '^API_' }, macOnlyEncrypted: false });
    expect(creationRuleFor(config, 'prod/secrets.enc.yaml')?.recipients).to.deep.equal([B]);
    expect(creationRuleFor(config, 'other.json')?.recipients).to.deep.equal([B]);
  });

  it('reads the age keys of a single key group', () => {
    expect(creationRuleFor(`creation_rules:\n  - key_groups:\n      - age: [${A}]\n`, 'x')?.recipients).to.deep.equal([A]);
  });

  it('has no rule for a file without creation_rules', () => {
    expect(creationRuleFor('destination_rules: []\n', 'x')).to.equal(undefined);
  });

  it('refuses what it cannot follow, naming the rule', () => {
    expect(refusal(() => creationRuleFor(`creation_rules:\n  - path_regex: ^prod/\n    age: ${A}\n`, 'shop/secrets.enc.yaml')).message).to.equal('.sops.yaml: no creation rule matches shop/secrets.enc.yaml');
    expect(refusal(() => creationRuleFor(`creation_rules:\n  - age: ${A}\n    pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n`, 'x')).message).to.equal('.sops.yaml: creation_rules[0] also encrypts to pgp keys; norn encrypts to age only, so create this file with sops');
    expect(refusal(() => creationRuleFor('creation_rules:\n  - age: not-a-recipient\n', 'x')).message).to.equal('.sops.yaml: creation_rules[0].age: not-a-recipient is not an age recipient (age1…)');
    expect(refusal(() => creationRuleFor(`creation_rules:\n  - key_groups: [{age: [${A}]}, {age: [${B}]}]\n`, 'x')).code).to.equal('unsupported');
    expect(refusal(() => creationRuleFor('creation_rules: [', 'x')).code).to.equal('malformed');
  });
});

describe('emptySopsYaml', function () {
  it('makes a file sops would make, whose first value opens for every recipient', async () => {
    const identities = [await generateIdentity(), await generateIdentity()];
    const recipients = await Promise.all(identities.map((identity) => identityToRecipient(identity)));
    const empty = await emptySopsYaml({ recipients, macOnlyEncrypted: false }, NOW);
    expect(empty).to.match(/^sops:\n {4}age:\n {8}- recipient: age1\S+\n {10}enc: \|\n {12}-----BEGIN AGE ENCRYPTED FILE-----\n/);
    expect(empty).to.match(/\n {4}lastmodified: "2026-12-07T01:02:03Z"\n {4}mac: ENC\[AES256_GCM,[^\n]+\]\n {4}unencrypted_suffix: _unencrypted\n {4}version: 3\.9\.0\n$/);
    expect((await decryptSops(empty, 'yaml', [identities[0]!])).data).to.deep.equal({});

    const { text, outcome } = await editSopsYaml(empty, { op: 'set', key: 'API_KEY', value: 'first-value' }, [identities[1]!], NOW);
    expect(outcome).to.equal('added');
    expect(text.startsWith('API_KEY: ENC[AES256_GCM,')).to.equal(true);
    for (const identity of identities) expect((await decryptSops(text, 'yaml', [identity])).data).to.deep.equal({ API_KEY: 'first-value' });
  });

  it('writes the rule into the metadata, and values follow it', async () => {
    const identity = await generateIdentity();
    const empty = await emptySopsYaml({ recipients: [await identityToRecipient(identity)], rule: { field: 'encrypted_regex', value: '^(API_|DB_)' }, macOnlyEncrypted: true }, NOW);
    expect(empty).to.contain('\n    encrypted_regex: ^(API_|DB_)\n    mac_only_encrypted: true\n');
    const { text } = await editSopsYaml(empty, { op: 'set', key: 'DB_PASSWORD', value: 'pw-value' }, [identity], NOW);
    expect((await decryptSops(text, 'yaml', [identity])).data).to.deep.equal({ DB_PASSWORD: 'pw-value' });
    const err = await editSopsYaml(text, { op: 'set', key: 'LOG_LEVEL', value: 'debug' }, [identity], NOW).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(SopsError).with.property('code', 'unsupported');
  });
});
