// The small conversions the MAC depends on: sops hashes Go's text for numbers and booleans, not JSON's.
import { expect } from 'chai';
import { parseOrderedJson } from '../../../../src/integrations/sops/json-format.js';
import { toTypedValue } from '../../../../src/integrations/sops/sops-cipher.js';
import { SopsError } from '../../../../src/integrations/sops/sops-error.js';
import { macBytes } from '../../../../src/integrations/sops/sops-mac.js';
import { formatGoFloat, toPlain } from '../../../../src/integrations/sops/sops-tree.js';

describe('SOPS value conversions', () => {
  it('formats floats as Go strconv.FormatFloat(x, f, -1, 64)', () => {
    const cases: [number, string][] = [
      [3.14, '3.14'],
      [7, '7'],
      [1234.56789, '1234.56789'],
      [1e21, '1000000000000000000000'],
      [1.5e-7, '0.00000015'],
      [-2.5e22, '-25000000000000000000000'],
      [-0, '-0'],
      [Infinity, '+Inf'],
    ];
    for (const [value, text] of cases) expect(formatGoFloat(value), String(value)).to.equal(text);
  });

  it('converts decrypted text by its type as Go does, and hashes the canonical form', () => {
    const typed = (type: string, text: string) => toTypedValue(type, Buffer.from(text), 'a:b:');
    expect(typed('bool', 'True')).to.deep.include({ value: true });
    expect(typed('bool', 'f').macBytes.toString()).to.equal('False');
    expect(typed('int', '+0042')).to.deep.include({ value: 42 });
    expect(typed('int', '+0042').macBytes.toString()).to.equal('42');
    expect(typed('int', '9223372036854775807').value).to.equal(9223372036854775807n);
    expect(typed('float', '3.140').macBytes.toString()).to.equal('3.14');
    expect(typed('str', 'as is').value).to.equal('as is');
  });

  it('hashes clear-text values as sops does: booleans title-cased, numbers without exponent', () => {
    const hashed = (value: Parameters<typeof macBytes>[0]) => macBytes(value).toString();
    expect([true, false, 2.5e-7, 12, 9007199254740993n, 'tekst'].map(hashed)).to.deep.equal([
      'True',
      'False',
      '0.00000025',
      '12',
      '9007199254740993',
      'tekst',
    ]);
  });

  it('refuses text that is not of its type without quoting it', () => {
    expect(() => toTypedValue('int', Buffer.from('hunter2'), 'db:password:'))
      .to.throw(SopsError, "value at 'db:password:' has type int but is not an integer")
      .with.property('message')
      .that.does.not.include('hunter2');
    expect(() => toTypedValue('int', Buffer.from('9223372036854775808'), 'n:')).to.throw(SopsError);
    expect(() => toTypedValue('secret', Buffer.from('x'), 'n:')).to.throw(SopsError, "unknown type 'secret'");
  });

  it('keeps JSON members in file order, integer-like keys included', () => {
    const tree = parseOrderedJson('{"b": 1, "10": [true, null, "x"], "a": {"2": -1.5e3, "1": {}}}');
    expect(tree.kind === 'map' && tree.items.map((item) => item.kind === 'entry' && item.key)).to.deep.equal(['b', '10', 'a']);
    expect(toPlain(tree)).to.deep.equal({ b: 1, 10: [true, null, 'x'], a: { 2: -1500, 1: {} } });
    for (const bad of ['{"a": 1,}', '{"a" 1}', '[1] x', '{"a": "\u0001"}', '{"a": 01}']) {
      expect(() => parseOrderedJson(bad), bad).to.throw(SopsError, 'invalid JSON');
    }
  });
});
