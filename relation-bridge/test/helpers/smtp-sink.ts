import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One message as the SMTP server received it, its headers and text decoded. */
export interface ReceivedMail {
  from: string;
  to: string[];
  /** Unfolded headers, names lower-cased; encoded words decoded. */
  headers: Record<string, string>;
  subject: string;
  text: string;
  /** The authenticated user, when the client logged in. */
  user: string | null;
  /** Whether the connection was upgraded to TLS (STARTTLS, or TLS from the start). */
  secure: boolean;
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  /** Mails to one address. */
  to(address: string): ReceivedMail[];
  /** The next `times` messages to this address are refused with a temporary failure (451), as a busy server does. */
  refuse(address: string, times: number): void;
  /** PEM of the self-signed certificate (with `tls`): the CA file a client must trust. */
  caFile: string | null;
  close(): Promise<void>;
}

/** RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`), as nodemailer writes them. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_match, _charset: string, encoding: string, data: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : Buffer.from(
            data
              .replace(/_/g, ' ')
              .replace(/=([0-9A-Fa-f]{2})/g, (_hex, code: string) => String.fromCharCode(parseInt(code, 16))),
            'latin1',
          ).toString('utf8'),
    );
}

function parse(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  const encoding = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  if (encoding === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { headers, body };
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl for this run. */
function selfSignedCertificate(): { key: string; cert: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'smtp-sink-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    dir,
  };
}

/**
 * A real SMTP server (smtp-server) on port 0 in the test process, keeping what it receives.
 * `tls`: it offers STARTTLS with a self-signed certificate; `auth`: it requires that login.
 */
export async function startSmtpSink(
  options: { tls?: boolean; auth?: { user: string; password: string } } = {},
): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const refusals = new Map<string, number>();
  const certificate = options.tls === true ? selfSignedCertificate() : null;
  const serverOptions: SMTPServerOptions = {
    authOptional: options.auth === undefined,
    disabledCommands: [...(certificate === null ? ['STARTTLS'] : []), ...(options.auth === undefined ? ['AUTH'] : [])],
    ...(certificate === null ? {} : { key: certificate.key, cert: certificate.cert }),
    // Without TLS (and only then) a password may not travel: the server takes no login in the clear.
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (
        options.auth !== undefined &&
        auth.username === options.auth.user &&
        auth.password === options.auth.password
      ) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('Invalid username or password'));
      }
    },
    onRcptTo(address, _session, callback) {
      const left = refusals.get(address.address) ?? 0;
      if (left > 0) {
        refusals.set(address.address, left - 1);
        const error = new Error('Mailbox busy, try again later') as Error & { responseCode: number };
        error.responseCode = 451;
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const { headers, body } = parse(Buffer.concat(chunks).toString('utf8'));
        mails.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          headers,
          subject: headers.subject ?? '',
          text: body,
          user: typeof session.user === 'string' ? session.user : null,
          secure: session.secure,
        });
        callback();
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address() as AddressInfo).port;
  return {
    port,
    mails,
    to: (address) => mails.filter((mail) => mail.to.includes(address)),
    refuse(address, times) {
      refusals.set(address, times);
    },
    caFile: certificate === null ? null : path.join(certificate.dir, 'cert.pem'),
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (certificate !== null) rmSync(certificate.dir, { recursive: true, force: true });
    },
  };
}
