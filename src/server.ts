/**
 * `npx tsx src/server.ts start [options]`: runs the linechat server until
 * SIGINT or SIGTERM, then shuts it down gracefully and exits 0.
 */
import { ChatServer } from './server/chat-server.ts';
import { openStore } from './server/history/open.ts';
import { StorageError, type HistoryStore } from './server/history/store.ts';
import { streamLog } from './server/log.ts';
import { OptionError, SERVER_USAGE, parseServerArgs } from './server/options.ts';

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this machine',
  ENOTFOUND: 'unknown host',
};

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseServerArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    process.stderr.write(`linechat: ${error.message}\nTry --help.\n`);
    return 2;
  }
  if (parsed.command === 'help') {
    process.stdout.write(SERVER_USAGE + '\n');
    return 0;
  }
  const { options } = parsed;
  const log = streamLog(process.stdout);
  let store: HistoryStore;
  try {
    store = await openStore(options);
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    // [STORE-4]: one line that names the file and what is wrong.
    process.stderr.write(`linechat: ${error.message}\n`);
    return 1;
  }
  const server = new ChatServer(options, log, store);
  try {
    const address = await server.listen();
    log(`Server started on ${address.address}:${address.port}`);
    if (options.db !== undefined) log(`History in ${options.db} (sync ${options.dbSync})`);
  } catch (error) {
    store.close();
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const why = LISTEN_ERRORS[code] ?? (error as Error).message;
    process.stderr.write(`linechat: cannot listen on ${options.host}:${options.port}: ${why}\n`);
    return 1;
  }

  return new Promise<number>((resolve) => {
    // [STORE-3]: a database that cannot commit stops the server at once.
    void server.failed.then(() => resolve(1));
    const stop = (signal: NodeJS.Signals) => {
      if (server.state === 'stopping') {
        log(`${signal} again: exiting now`);
        resolve(0);
        return;
      }
      log(`${signal} received: shutting down`);
      void server.shutdown(`${options.serverName} is stopping (${signal})`).then(() => {
        log('Server stopped');
        resolve(0);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // An operator's (and the leak tests') view of what the process holds.
    process.on('SIGUSR2', () => {
      const counts = new Map<string, number>();
      for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
      const stats = server.stats();
      log(
        `Stats: connections=${stats.connections} online=${stats.online} addresses=${stats.addresses} ` +
          `sockets=${counts.get('TCPSocketWrap') ?? 0} timers=${counts.get('Timeout') ?? 0} ` +
          `rss=${process.memoryUsage.rss()}`,
      );
    });
  });
}

process.exitCode = await main();
// Exit explicitly: a second signal must not wait for sockets still closing.
process.exit();
