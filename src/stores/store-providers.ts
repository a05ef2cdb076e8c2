import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/errors';
import { STORE_PROVIDERS, StoreProvider } from './providers/store-provider';

/** Looks providers up by name (the `provider` field, the /oauth and /webhooks path segment). */
@Injectable()
export class StoreProviders {
  private readonly byName: Map<string, StoreProvider>;

  constructor(@Inject(STORE_PROVIDERS) providers: StoreProvider[]) {
    this.byName = new Map(providers.map((p) => [p.name, p]));
  }

  find(name: string): StoreProvider | undefined {
    return this.byName.get(name);
  }

  /** The provider, or a 404 (unknown path segment). */
  get(name: string): StoreProvider {
    const p = this.byName.get(name);
    if (!p) throw AppError.notFound('store provider');
    return p;
  }
}
