import { errorMessage, formatLabel, httpsUrl, payloadField } from 'c/inboxUtils';

describe('c/inboxUtils', () => {
  describe('formatLabel', () => {
    it('fills numbered placeholders and leaves unknown ones as they are', () => {
      expect(formatLabel('{0} のポリシーを編集 ({1})', '営業窓口', 12)).toBe('営業窓口 のポリシーを編集 (12)');
      expect(formatLabel('Edit {0} and {2}', 'a')).toBe('Edit a and {2}');
    });
  });

  describe('errorMessage', () => {
    it('reads the message of an Apex error body, of a list of bodies, or of a JavaScript error', () => {
      expect(errorMessage({ body: { message: 'Enter the inbox ID.' } }, 'fallback')).toBe('Enter the inbox ID.');
      expect(errorMessage({ body: [{ message: 'First.' }, { message: 'Second.' }] }, 'fallback')).toBe(
        'First. Second.',
      );
      expect(errorMessage(new Error('Network down'), 'fallback')).toBe('Network down');
    });

    it('falls back when the error carries no message', () => {
      expect(errorMessage(undefined, 'fallback')).toBe('fallback');
      expect(errorMessage({ body: {} }, 'fallback')).toBe('fallback');
      expect(errorMessage('boom', 'fallback')).toBe('fallback');
    });
  });

  describe('httpsUrl', () => {
    it('keeps an absolute https URL', () => {
      expect(httpsUrl('https://example.relationapp.jp/tickets/4812')).toBe(
        'https://example.relationapp.jp/tickets/4812',
      );
      expect(httpsUrl(' HTTPS://Example.relationapp.jp/t?id=1 ')).toBe('https://example.relationapp.jp/t?id=1');
    });

    it('refuses every other scheme, relative URLs and missing values', () => {
      for (const value of [
        // eslint-disable-next-line no-script-url -- the hostile values the helper must refuse
        'javascript:alert(1)',
        ' JavaScript:alert(1)',
        'data:text/html,<script>alert(1)</script>',
        'http://example.relationapp.jp/tickets/1',
        '//example.relationapp.jp/tickets/1',
        '/tickets/1',
        'not a url',
        '',
        null,
        undefined,
      ]) {
        expect(httpsUrl(value)).toBeNull();
      }
    });
  });

  describe('payloadField', () => {
    it('reads a platform event field with or without the namespace prefix', () => {
      expect(payloadField({ Job_Id__c: '0Af1' }, 'Job_Id__c')).toBe('0Af1');
      expect(payloadField({ inbx__Job_Id__c: '0Af2' }, 'Job_Id__c')).toBe('0Af2');
      expect(payloadField({ inbx__Other__c: 'x' }, 'Job_Id__c')).toBeUndefined();
    });
  });
});
