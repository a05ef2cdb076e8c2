import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule, type BullBoardQueueOptions } from '@bull-board/nestjs';
import { DynamicModule, Module } from '@nestjs/common';
import { QUEUE_LABELS, QueueName } from '../queues/queue-registry';
import { basicAuthMiddleware, type BasicCredentials } from './basic-auth';

export const QUEUE_DASHBOARD_ROUTE = '/admin/queues';

/**
 * bull-board's page asks an outside host for its fonts (Google Fonts): on a network
 * without internet the dashboard waits for what it cannot get, and on one with it, it
 * tells a third party who opens the ops dashboard. Those `<link>`s are dropped (the
 * stylesheet falls back to the system fonts); everything else is served from here.
 */
export function withoutOutsideRequests(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="https?:\/\/[^"]*"[^>]*>\s*/gi, '');
}

type Render = (
  path: string,
  options: object,
  cb: (err: Error | null, html?: string) => void,
) => void;

/** bull-board's Express adapter, rendering its page without requests to other origins. */
export class OfflineExpressAdapter extends ExpressAdapter {
  override setViewsPath(viewPath: string): this {
    super.setViewsPath(viewPath);
    const engines = (this.app as unknown as { engines: Record<string, Render> }).engines;
    const render = engines['.ejs']!;
    this.app.engine('ejs', (path, options, cb) =>
      render(path, options, (err, html) =>
        err ? cb(err) : cb(null, withoutOutsideRequests(html ?? '')),
      ),
    );
    return this;
  }
}

/** One dashboard entry per registered queue, named from QUEUE_LABELS: new queues appear by themselves. */
export function dashboardQueues(): BullBoardQueueOptions[] {
  return Object.values(QueueName).map((name) => ({
    name,
    adapter: BullMQAdapter,
    options: { displayName: QUEUE_LABELS[name], description: `queue "${name}"` },
  }));
}

/**
 * bull-board at /admin/queues, behind HTTP Basic with OPS_USER / OPS_PASSWORD. Loaded only
 * in the api role and only when both are set (otherwise the route does not exist: 404).
 */
@Module({})
export class QueueDashboardModule {
  static forRoot(credentials: BasicCredentials): DynamicModule {
    return {
      module: QueueDashboardModule,
      imports: [
        BullBoardModule.forRoot({
          route: QUEUE_DASHBOARD_ROUTE,
          adapter: OfflineExpressAdapter,
          middleware: basicAuthMiddleware(credentials),
          boardOptions: { uiConfig: { boardTitle: 'Castbridge queues' } },
        }),
        BullBoardModule.forFeature(...dashboardQueues()),
      ],
    };
  }
}
