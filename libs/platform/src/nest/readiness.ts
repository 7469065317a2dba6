import { Injectable } from '@nestjs/common';
import type { ReadinessCheck } from '../health/index.js';

/** Every dependency check that /readyz runs; infra registers its own, services add theirs. */
@Injectable()
export class Readiness {
  private readonly list: ReadinessCheck[] = [];

  add(check: ReadinessCheck): void {
    this.list.push(check);
  }

  checks(): readonly ReadinessCheck[] {
    return this.list;
  }
}
