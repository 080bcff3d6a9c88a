import pino from 'pino';

/** Paths that may hold secrets; pino replaces them before anything is written. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["webhook-signature"]',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.clientSecret',
  '*.client_secret',
  '*.codeVerifier',
  '*.code_verifier',
  '*.secret',
  '*.password',
  // nodemailer's auth object, and the SMTP password by its setting's name.
  '*.pass',
  '*.NOTICE_SMTP_PASSWORD',
];

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}
