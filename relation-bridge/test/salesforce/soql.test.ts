import { soqlString, soslTerm } from '../../src/salesforce/soql';
import { startLocalSalesforce, type LocalSalesforce } from '../../local-org';

describe('soqlString', () => {
  it('quotes and escapes backslashes, quotes and line breaks', () => {
    expect(soqlString('taro@example.jp')).toBe("'taro@example.jp'");
    expect(soqlString("o'brien@example.jp")).toBe("'o\\'brien@example.jp'");
    expect(soqlString('a\\b')).toBe("'a\\\\b'");
    expect(soqlString("x\\' OR Id != null")).toBe("'x\\\\\\' OR Id != null'");
    expect(soqlString('line\nbreak')).toBe("'line\\nbreak'");
  });
});

describe('soslTerm', () => {
  it('escapes every reserved character', () => {
    expect(soslTerm('09012345678')).toBe('09012345678');
    expect(soslTerm('+81-90')).toBe('\\+81\\-90');
    expect(soslTerm('a?b&c|d!e{f}g[h]i(j)k^l~m*n:o\\p"q\'r')).toBe(
      'a\\?b\\&c\\|d\\!e\\{f\\}g\\[h\\]i\\(j\\)k\\^l\\~m\\*n\\:o\\\\p\\"q\\\'r',
    );
  });

  it('quotes a value with spaces as one phrase', () => {
    expect(soslTerm('+81 90 1234 5678')).toBe('"\\+81 90 1234 5678"');
  });
});

describe('escaped values against the local org', () => {
  let sf: LocalSalesforce;

  beforeEach(async () => {
    sf = await startLocalSalesforce();
  });

  afterEach(async () => {
    await sf.close();
  });

  it('finds exactly the record whose email holds quotes and backslashes, and nothing for an injection attempt', () => {
    const org = sf.createOrg({ name: 'Escapes' });
    const tricky = org.addContact({ LastName: 'x', Email: "o'brien\\x@example.jp" });
    org.addContact({ LastName: 'y', Email: 'plain@example.jp' });
    expect(org.query(`SELECT Id FROM Contact WHERE Email IN (${soqlString("O'Brien\\x@example.jp")})`)).toEqual([
      { Id: tricky },
    ]);
    expect(
      org.query(`SELECT Id FROM Contact WHERE Email = ${soqlString("x' OR Email != null OR Email = 'y")}`),
    ).toEqual([]);
  });
});
