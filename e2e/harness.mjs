// The e2e harness: a real SMTP server (smtp-server) that keeps what it receives, parsed
// (mailparser); `coalition serve` started from the built binary on a free port with a fresh SQLite
// database and that SMTP server as its relay; GraphQL clients (graphql-request) signed in through
// the emailed links.
import { spawn, execFileSync } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { GraphQLClient } from 'graphql-request';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const bin = process.env.COALITION_BIN || path.join(root, 'bin', 'coalition');

// freePort asks the kernel for a port nobody listens on.
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

// Mailbox is an SMTP server on loopback; every message it accepts is parsed and kept.
export class Mailbox extends EventEmitter {
  constructor() {
    super();
    this.messages = [];
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, done) => {
        simpleParser(stream)
          .then((mail) => {
            mail.envelopeTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
            this.messages.push(mail);
            this.emit('message', mail);
            done();
          })
          .catch(done);
      },
    });
  }

  async start() {
    this.port = await freePort();
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server.server, 'listening');
    return this;
  }

  stop() {
    return new Promise((resolve) => this.server.close(resolve));
  }

  // next resolves with the first message (already received or arriving within timeoutMs)
  // to `to` whose subject matches `subject`, skipping the `skip` first such messages.
  next(to, subject, { skip = 0, timeoutMs = 20000 } = {}) {
    const matches = (m) => m.envelopeTo.includes(to.toLowerCase()) && subject.test(m.subject || '');
    const have = this.messages.filter(matches);
    if (have.length > skip) return Promise.resolve(have[skip]);
    return new Promise((resolve, reject) => {
      let seen = have.length;
      const timer = setTimeout(() => {
        this.off('message', on);
        const got = this.messages.map((m) => `${m.envelopeTo} «${m.subject}»`).join('\n  ');
        reject(new Error(`no email to ${to} matching ${subject} within ${timeoutMs} ms; received:\n  ${got}`));
      }, timeoutMs);
      const on = (m) => {
        if (!matches(m)) return;
        if (seen++ < skip) return;
        clearTimeout(timer);
        this.off('message', on);
        resolve(m);
      };
      this.on('message', on);
    });
  }
}

// linkIn returns the first link in the message's text that starts with prefix.
export function linkIn(mail, prefix) {
  const text = mail.text || '';
  const found = text.match(/https?:\/\/[^\s<>")\]]+/g) || [];
  const link = found.find((l) => l.startsWith(prefix));
  if (!link) throw new Error(`no link starting with ${prefix} in «${mail.subject}»:\n${text}`);
  return link;
}

// Service is one `coalition serve` process with its own data directory.
export class Service {
  constructor(mailbox) {
    this.mailbox = mailbox;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'coalition-e2e-'));
    this.log = [];
  }

  get env() {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      COALITION_DATA_DIR: this.dir,
      COALITION_HTTP_ADDR: `127.0.0.1:${this.port}`,
      COALITION_SMTP_URL: `smtp://127.0.0.1:${this.mailbox.port}?tls=none`,
      COALITION_MAIL_FROM: 'Coalition <no-reply@coalition.example.org>',
      COALITION_GRAPHIQL: 'true',
      COALITION_LOG_LEVEL: 'info',
    };
  }

  // cli runs a one-off command of the binary against the same database.
  cli(...args) {
    return execFileSync(bin, args, { env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async start() {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.proc = spawn(bin, ['serve'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = new Promise((resolve, reject) => {
      const onLine = (chunk) => {
        const s = chunk.toString();
        this.log.push(s);
        if (/msg="coalition serving"/.test(s)) resolve();
      };
      this.proc.stdout.on('data', onLine);
      this.proc.stderr.on('data', onLine);
      this.proc.once('exit', (code) => reject(new Error(`coalition serve exited (${code}):\n${this.log.join('')}`)));
    });
    const timeout = new Promise((_, reject) => {
      const t = setTimeout(() => reject(new Error(`coalition serve did not listen within 60 s:\n${this.log.join('')}`)), 60000);
      ready.finally(() => clearTimeout(t)).catch(() => {});
    });
    await Promise.race([ready, timeout]);
    const r = await fetch(`${this.url}/readyz`);
    if (r.status !== 200) throw new Error(`/readyz answered ${r.status}`);
    return this;
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      await once(this.proc, 'exit');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  // client returns a graphql-request client sending token (none: anonymous).
  client(token) {
    return new GraphQLClient(`${this.url}/graphql`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
  }

  // signIn asks for a login link for email, reads it from the mailbox and redeems it as a
  // front end would; it returns the session token.
  async signIn(email) {
    const anon = this.client();
    const skip = this.mailbox.messages.filter((m) => m.envelopeTo.includes(email) && /sign-in link/i.test(m.subject)).length;
    const asked = await anon.request(
      `mutation($email: String!) { requestLoginLink(input: {email: $email}) { accepted userErrors { code message } } }`,
      { email },
    );
    ok(asked.requestLoginLink.accepted, asked);
    const mail = await this.mailbox.next(email, /sign-in link/i, { skip });
    const token = new URL(linkIn(mail, `${this.url}/signin`)).searchParams.get('token');
    const r = await anon.request(
      `mutation($token: String!) { redeemLoginLink(input: {token: $token}) { sessionToken user { email roles } userErrors { code message } } }`,
      { token },
    );
    ok(r.redeemLoginLink.sessionToken, r);
    return r.redeemLoginLink.sessionToken;
  }
}

// ok throws with the answer when cond is false.
export function ok(cond, answer) {
  if (!cond) throw new Error(`unexpected answer: ${JSON.stringify(answer, null, 1)}`);
}

// noUserErrors returns payload after checking that it has no userErrors.
export function noUserErrors(payload, what) {
  if (!payload || (payload.userErrors && payload.userErrors.length > 0)) {
    throw new Error(`${what}: ${JSON.stringify(payload)}`);
  }
  return payload;
}

// PDF returns a small but real PDF document.
export function pdf(label) {
  return Buffer.from(`%PDF-1.4\n1 0 obj<</Title (${label})>>endobj\ntrailer<<>>\n%%EOF\n`);
}

// upload sends one file with a GraphQL multipart request (the multipart request spec:
// operations, map, then the file part), as browsers and upload-capable clients do.
export async function upload(service, token, query, variables, filePath, bytes, filename) {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables }));
  form.append('map', JSON.stringify({ 0: [filePath] }));
  form.append('0', new Blob([bytes], { type: 'application/pdf' }), filename);
  const r = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: form,
  });
  const body = await r.json();
  if (r.status !== 200 || body.errors) throw new Error(`upload: ${r.status} ${JSON.stringify(body)}`);
  return body.data;
}
