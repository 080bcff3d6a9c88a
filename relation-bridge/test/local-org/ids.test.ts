import { canonicalId, toId18 } from '../../local-org';
import { IdFactory } from '../../local-org/ids';

describe('local org record ids', () => {
  it.each([
    ['a01M00000062mPg', 'a01M00000062mPgIAI'],
    ['001M000000qfPyS', '001M000000qfPySIAU'],
    ['a0FE000000D6r3F', 'a0FE000000D6r3FMAR'],
    ['0F9E000000092w2', '0F9E000000092w2KAA'],
  ])('appends Salesforce’s checksum to %s', (id15, id18) => {
    expect(toId18(id15)).toBe(id18);
  });

  it('reads 18-character ids case-insensitively and 15-character ones exactly', () => {
    expect(canonicalId('001m000000QFPYSIAU')).toBe('001M000000qfPySIAU');
    expect(canonicalId('001M000000qfPyS')).toBe('001M000000qfPySIAU');
    expect(canonicalId('001M000000qfPyS555')).toBeNull();
    expect(canonicalId('001M000000qfPySAAA')).toBe('001m000000qfpysAAA');
    expect(canonicalId('not an id')).toBeNull();
  });

  it('issues unique 18-character ids with the key prefix and a valid checksum', () => {
    const factory = new IdFactory();
    const ids = Array.from({ length: 1000 }, () => factory.next('00U'));
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids.slice(0, 20)) {
      expect(id).toMatch(/^00U[A-Za-z0-9]{15}$/);
      expect(canonicalId(id)).toBe(id);
    }
  });
});
