import { parseLimitInfo } from '../../src/salesforce/limit-info';

describe('parseLimitInfo', () => {
  it.each([
    ['api-usage=18/15000', { used: 18, max: 15000 }],
    ['api-usage=18/15000, per-app-api-usage=5/1000(appName=Bridge)', { used: 18, max: 15000 }],
    ['per-app-api-usage=5/1000(appName=Bridge), api-usage=7/100', { used: 7, max: 100 }],
    ['API-Usage = 3 / 50', { used: 3, max: 50 }],
  ])('reads %s', (header, expected) => {
    expect(parseLimitInfo(header)).toEqual(expected);
  });

  it.each([null, undefined, '', 'per-app-api-usage=5/1000', 'api-usage=a/b', 'api-usage=1/0'])(
    'gives null for %p',
    (header) => {
      expect(parseLimitInfo(header)).toBeNull();
    },
  );
});
