import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import request from 'supertest';
import type { AppConfig } from '../../config/env.schema';
import { createApp } from '../../src/bootstrap';
import { dropDatabase, flushQueuePrefix, TEST_ADMIN_TOKEN, testConfig } from './test-env';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  server: Server;
  http: () => ReturnType<typeof request>;
  close(): Promise<void>;
}

/** The real application in-process, listening on a loopback port, with its own database. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = testConfig(env);
  const app = await createApp(config);
  // PORT=0 (the default here) picks a free port; a fixed one lets PUBLIC_BASE_URL name it.
  await app.listen(config.port, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  return {
    app,
    config,
    server,
    http: () => request(server),
    async close() {
      await app.close();
      await dropDatabase(config.databaseUrl);
      await flushQueuePrefix(config.queuePrefix);
    },
  };
}

export async function createPartner(
  t: TestApp,
  name = 'Partner',
): Promise<{ id: string; apiKey: string }> {
  const res = await t
    .http()
    .post('/v1/admin/partners')
    .set('authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
    .send({ name })
    .expect(201);
  return res.body as { id: string; apiKey: string };
}
