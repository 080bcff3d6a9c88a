import fs from 'node:fs';
import nodemailer from 'nodemailer';
import { BridgeError } from '../core/errors';

/** The SMTP settings of the notice e-mails (NOTICE_SMTP_*); the password is held here only in memory. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** `starttls`: STARTTLS is required before anything is sent; `tls`: TLS from the start; `none`: never TLS. */
  security: 'starttls' | 'tls' | 'none';
  auth: { user: string; password: string } | null;
  /** PEM of the authority that signed the server's certificate; null: the system's. */
  ca: string | null;
  from: string;
  timeoutMs: number;
}

export interface NoticeMail {
  to: { name: string; address: string };
  language: 'ja' | 'en';
  subject: string;
  text: string;
}

/** Sends one notice e-mail; a failure is a BridgeError (retryable: the SMTP server may answer later). */
export interface NoticeMailer {
  send(mail: NoticeMail): Promise<void>;
  close(): void;
}

const DEFAULT_PORTS: Record<SmtpSettings['security'], number> = { starttls: 587, tls: 465, none: 25 };

/** The SMTP settings from the configuration; null when notices are off (no NOTICE_SMTP_HOST). */
export function smtpSettingsFrom(config: {
  NOTICE_SMTP_HOST?: string | undefined;
  NOTICE_SMTP_PORT?: number | undefined;
  NOTICE_SMTP_SECURITY: SmtpSettings['security'];
  NOTICE_SMTP_USER?: string | undefined;
  NOTICE_SMTP_PASSWORD?: string | undefined;
  NOTICE_SMTP_CA_FILE?: string | undefined;
  NOTICE_MAIL_FROM?: string | undefined;
  SF_REQUEST_TIMEOUT_MS: number;
}): SmtpSettings | null {
  if (config.NOTICE_SMTP_HOST === undefined || config.NOTICE_MAIL_FROM === undefined) return null;
  return {
    host: config.NOTICE_SMTP_HOST,
    port: config.NOTICE_SMTP_PORT ?? DEFAULT_PORTS[config.NOTICE_SMTP_SECURITY],
    security: config.NOTICE_SMTP_SECURITY,
    auth:
      config.NOTICE_SMTP_USER === undefined || config.NOTICE_SMTP_PASSWORD === undefined
        ? null
        : { user: config.NOTICE_SMTP_USER, password: config.NOTICE_SMTP_PASSWORD },
    ca: config.NOTICE_SMTP_CA_FILE === undefined ? null : fs.readFileSync(config.NOTICE_SMTP_CA_FILE, 'utf8'),
    from: config.NOTICE_MAIL_FROM,
    timeoutMs: config.SF_REQUEST_TIMEOUT_MS,
  };
}

/**
 * Notice e-mails through an SMTP server with nodemailer: plain text in UTF-8, marked as
 * automatic (`Auto-Submitted`, so that out-of-office replies do not answer them), one message
 * per recipient. The server's certificate is always verified.
 */
export function createSmtpMailer(settings: SmtpSettings): NoticeMailer {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    ...(settings.auth === null ? {} : { auth: { user: settings.auth.user, pass: settings.auth.password } }),
    tls: { rejectUnauthorized: true, ...(settings.ca === null ? {} : { ca: settings.ca }) },
    connectionTimeout: settings.timeoutMs,
    greetingTimeout: settings.timeoutMs,
    socketTimeout: settings.timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    async send(mail) {
      try {
        await transport.sendMail({
          from: settings.from,
          to: { name: mail.to.name, address: mail.to.address },
          subject: mail.subject,
          text: mail.text,
          textEncoding: 'base64',
          headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': mail.language },
        });
      } catch (error) {
        // Without the error object as cause: nothing the transport holds reaches a log.
        throw new BridgeError('retryable', `the SMTP server did not take the notice e-mail: ${describe(error)}`, {
          code: 'smtp_failed',
        });
      }
    },
    close() {
      transport.close();
    },
  };
}

/** The SMTP error without anything the settings hold (nodemailer's messages carry the server's answer, not the password). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}
