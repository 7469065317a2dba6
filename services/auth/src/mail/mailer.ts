import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import type { AuthConfig } from '../config.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** A mail server that keeps a client waiting longer than this is down, as far as a request goes. */
const TIMEOUT_MS = 10_000;

/** Outgoing mail over SMTP (nodemailer); absent SMTP_URL, nothing is sent and callers are told. */
@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly transport: Transporter | undefined;

  constructor(@Inject(CONFIG) config: AuthConfig) {
    const url = config.SMTP_URL;
    this.transport = url
      ? createTransport(
          {
            url,
            // a mailed invite is a credential: never in clear past loopback, even when a man in the
            // middle strips STARTTLS from the server's greeting
            requireTLS: config.SMTP_REQUIRE_TLS && !isLoopback(new URL(url).hostname),
            connectionTimeout: TIMEOUT_MS,
            greetingTimeout: TIMEOUT_MS,
            socketTimeout: TIMEOUT_MS,
          },
          { from: config.MAIL_FROM },
        )
      : undefined;
  }

  get configured(): boolean {
    return this.transport !== undefined;
  }

  /**
   * `delivered` once the server took the mail; `refused` when it refused it for good (no such
   * mailbox, or a 5xx after the message); `unavailable` when it could not be reached, refused us
   * or asked to try later.
   */
  async send(mail: Mail): Promise<'delivered' | 'refused'> {
    if (!this.transport) throw new AppError('unavailable', 'this server sends no mail (SMTP_URL is not set)');
    try {
      await this.transport.sendMail(mail);
      return 'delivered';
    } catch (err) {
      // refused for good (5xx), at RCPT TO or after the message: reads like a missing mailbox
      // (a refused sender, at MAIL FROM, is our configuration: unavailable)
      const { command, responseCode } = err as { command?: string; responseCode?: number };
      if ((command === 'RCPT TO' || command === 'DATA') && (responseCode ?? 0) >= 500) return 'refused';
      // the server's answer goes to the log with the error's detail, never to the client
      throw new AppError('unavailable', 'the mail could not be sent; retry later', 5_000, String(err));
    }
  }

  onApplicationShutdown(): void {
    this.transport?.close();
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}
