/**
 * One config for every test: unit and property tests (test/unit,
 * test/property) and the integration and conformance tests
 * (test/integration), which talk to a real server over TCP.
 *
 * - Default pool (forks), files in parallel: each integration file starts
 *   its own server process, so files never share state. With
 *   CHAT_SERVER=host:port (conformance mode) they all share that server, and
 *   run one file at a time.
 * - Integration tests synchronise on protocol events, so their timeouts are
 *   only a safety net for a hung server: 30 s per test and hook.
 */
import { defineConfig } from 'vitest/config';

/** Conformance mode: every protocol test talks to one external server. */
const conformance = Boolean(process.env.CHAT_SERVER?.trim());

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    // A test that fails reports it; retrying would hide a flaky server or test.
    retry: 0,
    // Against one shared server, files run one after another: the flood that
    // the slow-consumer test ([LIMIT-7]) must send reaches every client
    // online, and would starve the clients of a file running beside it.
    fileParallelism: !conformance,
  },
});
