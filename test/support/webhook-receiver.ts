import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  webhookId: string;
  timestamp: string;
  signature: string;
  body: string;
  payload: { id: string; type: string; createdAt: string; data: Record<string, unknown> } | null;
  /** Indexes (into the trusted secrets) of every secret that verifies this request alone. */
  verifiedWith: number[];
  /** What the receiver answered. */
  status: number;
  receivedAt: number;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
}

/**
 * A partner's webhook endpoint for tests: a real HTTP server on 127.0.0.1 that verifies
 * EVERY request with the official `standardwebhooks` library (not Castbridge's code),
 * against each secret it was told to trust. A request no trusted secret verifies is
 * answered 401 and counted in `rejected`. It can be told to fail the next N requests,
 * to answer 410, or to answer with Retry-After.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private secrets: string[] = [];
  private readonly plan: Answer[] = [];
  private always: Answer | null = null;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hooks/castbridge'): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = receiver!.handle(req, Buffer.concat(chunks).toString('utf8'));
        res.writeHead(answer.status, answer.headers ?? {}).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}${path}`);
    return receiver;
  }

  /** Secrets to verify with (e.g. the old and the new one during a rotation). */
  trust(...secrets: string[]): this {
    this.secrets = secrets;
    return this;
  }

  /** Answer the next `n` requests with `status` (500 by default). */
  failNext(n: number, status = 500, headers?: Record<string, string>): this {
    for (let i = 0; i < n; i++) this.plan.push({ status, headers });
    return this;
  }

  /** Answer every request like this from now on (e.g. 410); null goes back to 204. */
  answerAlways(status: number | null, headers?: Record<string, string>): this {
    this.always = status === null ? null : { status, headers };
    return this;
  }

  /** Requests that were verified and answered 2xx. */
  get accepted(): ReceivedWebhook[] {
    return this.received.filter((r) => r.verifiedWith.length > 0 && r.status < 300);
  }

  /** Requests no trusted secret verified. */
  get rejected(): ReceivedWebhook[] {
    return this.received.filter((r) => r.verifiedWith.length === 0);
  }

  async waitFor(
    predicate: (r: WebhookReceiver) => boolean,
    { timeoutMs = 15_000, what = 'webhooks' } = {},
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}; received: ${JSON.stringify(
            this.received.map((r) => ({ id: r.webhookId, type: r.payload?.type, s: r.status })),
          )}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(req: IncomingMessage, body: string): Answer {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : (v ?? '');
    };
    const headers = {
      'webhook-id': header('webhook-id'),
      'webhook-timestamp': header('webhook-timestamp'),
      'webhook-signature': header('webhook-signature'),
    };
    const verifiedWith: number[] = [];
    this.secrets.forEach((secret, i) => {
      try {
        new Webhook(secret).verify(body, headers);
        verifiedWith.push(i);
      } catch {
        /* not this secret */
      }
    });
    let payload: ReceivedWebhook['payload'] = null;
    try {
      payload = JSON.parse(body) as ReceivedWebhook['payload'];
    } catch {
      /* recorded as null */
    }
    const answer: Answer =
      verifiedWith.length === 0
        ? { status: 401 }
        : (this.plan.shift() ?? this.always ?? { status: 204 });
    this.received.push({
      webhookId: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
      body,
      payload,
      verifiedWith,
      status: answer.status,
      receivedAt: Date.now(),
    });
    return answer;
  }
}
