import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@im/platform/errors';
import { CONFIG } from '@im/platform/nest';
import type { GatewayConfig } from '../config.js';

/**
 * Load shedding: the requests this gateway works on at once, over REST and every socket together.
 * Past MAX_IN_FLIGHT a request is refused at once with `unavailable` and a retry hint, before it
 * queues behind the others.
 */
@Injectable()
export class InFlightRequests {
  private count = 0;

  constructor(@Inject(CONFIG) private readonly config: GatewayConfig) {}

  /** Runs `work` in a slot, or throws `unavailable` when none is free. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.count >= this.config.MAX_IN_FLIGHT)
      throw new AppError('unavailable', 'gateway overloaded; retry shortly', 250);
    this.count++;
    try {
      return await work();
    } finally {
      this.count--;
    }
  }
}
