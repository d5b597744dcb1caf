import { request } from '@playwright/test';
import { join } from 'node:path';

/**
 * Signs in once as the demo admin (the server runs with no identity provider, on
 * loopback) and saves the session for every test's page and request fixtures.
 * Tests of signing in start from an empty browser context instead.
 */
export const adminState = () => join(process.env.PORTICO_E2E_DATA!, 'admin-state.json');

export default async function globalSetup() {
  const baseURL = `http://127.0.0.1:${process.env.PORTICO_E2E_PORT}`;
  const context = await request.newContext({ baseURL });
  const response = await context.post('/auth/demo', {
    form: { person: 'shafi.goldwasser', return_to: '/' },
    headers: { Origin: baseURL },
    maxRedirects: 0,
  });
  if (response.status() !== 303) {
    throw new Error(`demo sign-in answered ${response.status()}: ${await response.text()}`);
  }
  await context.storageState({ path: adminState() });
  await context.dispose();
}
