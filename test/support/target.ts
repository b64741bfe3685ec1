/**
 * Where the integration tests send their traffic: the one place that decides
 * between our own server process and an external one.
 *
 * - Default: each test file starts the real server (`startServer`) on a free
 *   port and stops it in teardown.
 * - Conformance mode: `CHAT_SERVER=host:port` points every protocol-level
 *   test at a server that is already running. Tests that must control the
 *   server process use `itOwnServer`, which skips them there and says so.
 */
import { it } from 'vitest';
import { startServer, type ServerProcess } from './server-process.ts';

export interface Target {
  readonly host: string;
  readonly port: number;
  /** Present only when this test run started the server itself. */
  readonly server?: ServerProcess;
  close(): Promise<void>;
}

export const EXTERNAL_SERVER = process.env.CHAT_SERVER?.trim() || undefined;

function parseHostPort(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(value.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`CHAT_SERVER must be host:port, got ${JSON.stringify(value)}`);
  }
  return { host, port };
}

/** The server under test: external when CHAT_SERVER is set, else our own. */
export async function openTarget(serverArgs: readonly string[] = []): Promise<Target> {
  if (EXTERNAL_SERVER !== undefined) {
    return { ...parseHostPort(EXTERNAL_SERVER), close: async () => {} };
  }
  const server = await startServer(serverArgs);
  return {
    host: server.host,
    port: server.port,
    server,
    close: async () => {
      await server.stop();
    },
  };
}

/** A test that needs to control the server process; skipped in conformance mode. */
export const itOwnServer = Object.assign(
  (name: string, fn: () => Promise<void>, timeout?: number) =>
    it.skipIf(EXTERNAL_SERVER !== undefined)(
      EXTERNAL_SERVER === undefined ? name : `${name} (skipped: needs its own server process, CHAT_SERVER is set)`,
      fn,
      timeout,
    ),
  {},
);
