import { expect } from 'chai';
import { imageName } from '../../../../src/integrations/docker/image-name.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('imageName', () => {
  it('tags with the first 12 characters of the commit under the registry', () => {
    expect(imageName('127.0.0.1:5000', 'shop', SHA)).to.deep.equal({
      registry: '127.0.0.1:5000',
      repository: '127.0.0.1:5000/shop',
      tag: '0123456789ab',
      ref: '127.0.0.1:5000/shop:0123456789ab',
    });
  });

  it('drops a scheme and keeps a namespace path apart from the registry host', () => {
    expect(imageName('https://registry.example.com/team/', 'shop', SHA)).to.deep.include({
      registry: 'registry.example.com',
      ref: 'registry.example.com/team/shop:0123456789ab',
    });
  });

  it('names a local-only image without a registry', () => {
    expect(imageName(undefined, 'shop', SHA)).to.deep.equal({ repository: 'shop', tag: '0123456789ab', ref: 'shop:0123456789ab' });
    expect(imageName('  ', 'shop', SHA).registry).to.equal(undefined);
  });

  it('refuses a commit that is not a hex SHA', () => {
    expect(() => imageName(undefined, 'shop', 'main')).to.throw(/not a hex SHA/);
  });
});
