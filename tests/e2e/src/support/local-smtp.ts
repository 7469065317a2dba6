import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The SMTP login the sender used. */
  user: string;
  to: string[];
  subject: string;
  text: string;
}

/**
 * A local mail server (smtp-server, the SMTP protocol for real) that takes mail only after an
 * AUTH login and keeps what it receives. Recipients whose local part starts with "bounce" do not
 * exist (550 at RCPT TO); mail to "rejected…" is refused for good after DATA (554); mail to
 * "deferred…" fails for now (451 after DATA: a server in trouble); "held…" waits at RCPT TO until
 * `releaseHeld()` (a slow server).
 */
export class LocalSmtp {
  readonly user = 'im-auth';
  readonly password = 'smtp-test-password';
  readonly received: ReceivedMail[] = [];
  private readonly server: SMTPServer;
  private readonly held: Array<() => void> = [];
  private port = 0;

  constructor() {
    this.server = new SMTPServer({
      // loopback only; TLS is nodemailer's business and not what this suite tests
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth: (auth, _session, cb) =>
        auth.username === this.user && auth.password === this.password
          ? cb(null, { user: auth.username })
          : cb(new Error('bad login')),
      onRcptTo: (address, _session, cb) => {
        if (address.address.startsWith('held')) this.held.push(() => cb());
        else if (address.address.startsWith('bounce'))
          cb(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
        else cb();
      },
      onData: (stream, session, cb) => {
        const refusal = session.envelope.rcptTo.some((r) => r.address.startsWith('deferred'))
          ? { message: 'try again later', responseCode: 451 }
          : session.envelope.rcptTo.some((r) => r.address.startsWith('rejected'))
            ? { message: 'message refused', responseCode: 554 }
            : undefined;
        if (refusal) {
          stream.resume();
          stream.on('end', () =>
            cb(Object.assign(new Error(refusal.message), { responseCode: refusal.responseCode })),
          );
          return;
        }
        simpleParser(stream)
          .then((mail) => {
            this.received.push({
              user: String(session.user ?? ''),
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: mail.subject ?? '',
              text: mail.text ?? '',
            });
            cb();
          })
          .catch((err: Error) => cb(err));
      },
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  /** SMTP_URL for the auth service. */
  get url(): string {
    return `smtp://${this.user}:${this.password}@127.0.0.1:${this.port}`;
  }

  /** Recipients waiting at RCPT TO. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Lets every held recipient through. */
  releaseHeld(): void {
    for (const release of this.held.splice(0)) release();
  }

  /** Mails received for `address`. */
  to(address: string): ReceivedMail[] {
    return this.received.filter((m) => m.to.includes(address));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
