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

/** Outgoing mail over SMTP (nodemailer); absent SMTP_URL, nothing is sent and callers are told. */
@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly transport: Transporter | undefined;

  constructor(@Inject(CONFIG) config: AuthConfig) {
    this.transport = config.SMTP_URL
      ? createTransport(config.SMTP_URL, { from: config.MAIL_FROM })
      : undefined;
  }

  get configured(): boolean {
    return this.transport !== undefined;
  }

  /** Handed to the mail server, or `unavailable` (the server's answer is logged, never returned). */
  async send(mail: Mail): Promise<void> {
    if (!this.transport) throw new AppError('unavailable', 'this server sends no mail (SMTP_URL is not set)');
    try {
      await this.transport.sendMail(mail);
    } catch (err) {
      // the server's answer goes to the log with the error's detail, never to the client
      throw new AppError('unavailable', 'the mail could not be sent; retry later', 5_000, String(err));
    }
  }

  onApplicationShutdown(): void {
    this.transport?.close();
  }
}
