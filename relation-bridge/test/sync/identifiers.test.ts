import { normalizeEmail, normalizePhone, phoneSearchTerms } from '../../src/sync/identifiers';

describe('normalizePhone', () => {
  it.each([
    ['03-1234-5678', '0312345678'],
    ['(03) 1234 5678', '0312345678'],
    ['０３－１２３４－５６７８', '0312345678'],
    ['+81 3-1234-5678', '0312345678'],
    ['+81 (0)3 1234 5678', '0312345678'],
    ['0081-90-1234-5678', '09012345678'],
    ['＋８１ ９０ １２３４ ５６７８', '09012345678'],
    ['090.1234.5678', '09012345678'],
    ['03-1234-5678 内線 123', '0312345678'],
  ])('reduces %s to %s', (raw, expected) => {
    expect(normalizePhone(raw)).toBe(expected);
  });

  it('keeps other countries international', () => {
    expect(normalizePhone('+1 (415) 555-0100')).toBe('+14155550100');
  });

  it('rejects text that is not a phone number', () => {
    expect(normalizePhone('なし')).toBeNull();
    expect(normalizePhone('12-34')).toBeNull();
  });

  it('searches Japanese numbers in both national and international form', () => {
    expect(phoneSearchTerms('0312345678')).toEqual(['0312345678', '81312345678']);
    expect(phoneSearchTerms('+14155550100')).toEqual(['14155550100']);
  });
});

describe('normalizeEmail', () => {
  it('lower-cases and folds full-width characters', () => {
    expect(normalizeEmail('  Taro.YAMADA@Example.COM ')).toBe('taro.yamada@example.com');
    expect(normalizeEmail('ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ')).toBe('taro@example.com');
  });

  it('rejects what is not an address, including quote characters that could reach a query', () => {
    expect(normalizeEmail('taro')).toBeNull();
    expect(normalizeEmail("o'brien@example.com")).toBeNull();
  });
});
