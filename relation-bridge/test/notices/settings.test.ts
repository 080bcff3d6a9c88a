import { ConfigError, loadConfig, unsetSettings } from '../../src/config';
import { smtpSettingsFrom } from '../../src/notices/mailer';

describe('the notice e-mails’ settings', () => {
  const base = {
    NOTICE_SMTP_HOST: 'smtp.relation-demo.example.jp',
    NOTICE_MAIL_FROM: 'bridge@relation-demo.example.jp',
  };

  it('are off without NOTICE_SMTP_HOST, which the warnings at start name', () => {
    const config = loadConfig({});
    expect(smtpSettingsFrom(config)).toBeNull();
    expect(unsetSettings(config).map((warning) => warning.setting)).toContain('NOTICE_SMTP_HOST');
    expect(smtpSettingsFrom(loadConfig({ NOTICE_SMTP_HOST: '', NOTICE_MAIL_FROM: '' }))).toBeNull();
  });

  it('need a sender, both or neither of the login’s parts, and TLS for a login', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return null;
      } catch (error) {
        return error instanceof ConfigError ? error.issues : error;
      }
    };
    expect(refusal({ NOTICE_SMTP_HOST: 'smtp.relation-demo.example.jp' })).toEqual([
      'NOTICE_MAIL_FROM: required with NOTICE_SMTP_HOST',
    ]);
    expect(refusal({ ...base, NOTICE_SMTP_USER: 'bridge' })).toEqual([
      'NOTICE_SMTP_USER and NOTICE_SMTP_PASSWORD: give both, or neither',
    ]);
    expect(
      refusal({
        ...base,
        NOTICE_SMTP_USER: 'bridge',
        NOTICE_SMTP_PASSWORD: 'secret-2026',
        NOTICE_SMTP_SECURITY: 'none',
      }),
    ).toEqual([
      'NOTICE_SMTP_SECURITY: `none` sends the SMTP password in the clear; use `starttls` or `tls` with a login',
    ]);
    expect(refusal({ ...base, NOTICE_SMTP_SECURITY: 'ssl' })).toEqual([
      expect.stringContaining('NOTICE_SMTP_SECURITY'),
    ]);
  });

  it('default the port to the security’s (587 STARTTLS, 465 TLS, 25 none) and require STARTTLS by default', () => {
    expect(smtpSettingsFrom(loadConfig(base))).toMatchObject({ security: 'starttls', port: 587, auth: null, ca: null });
    expect(smtpSettingsFrom(loadConfig({ ...base, NOTICE_SMTP_SECURITY: 'tls' }))?.port).toBe(465);
    expect(smtpSettingsFrom(loadConfig({ ...base, NOTICE_SMTP_SECURITY: 'none' }))?.port).toBe(25);
    expect(
      smtpSettingsFrom(
        loadConfig({
          ...base,
          NOTICE_SMTP_PORT: '2525',
          NOTICE_SMTP_USER: 'bridge',
          NOTICE_SMTP_PASSWORD: 'pw-2026-x',
        }),
      ),
    ).toMatchObject({ port: 2525, auth: { user: 'bridge', password: 'pw-2026-x' } });
  });
});
