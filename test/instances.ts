import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import { pino } from 'pino';
import { parseConfig } from '../host/config.js';
import { createDeps } from '../host/deps.js';
import { httpListener } from '../host/process.js';
import { testEnvironment } from './system.js';

/** Processes of this test run started beside the shared test system, each with settings of its own. */

export type Answer = { status: number; headers: Headers; body: any };

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  { headers = {}, body }: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = response.headers.get('content-type')?.startsWith('application/json');
  return { status: response.status, headers: response.headers, body: json ? JSON.parse(text) : text };
}

export const from = (address: string) => ({ 'x-forwarded-for': address });

export async function listen(listener: RequestListener): Promise<{ server: Server; baseUrl: string }> {
  const server = createServer(listener).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** A process of this test run as the host builds it (its own connections, httpListener), with these settings. */
export async function startInstance(settings: Record<string, string>) {
  const config = parseConfig({ ...(await testEnvironment()), PORT: '0', ...settings });
  const wiring = createDeps(config, pino({ level: 'silent' }), 2);
  const { server, baseUrl } = await listen(httpListener(config, wiring));
  return { config, wiring, server, baseUrl };
}
