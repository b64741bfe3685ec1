/**
 * `npx tsx src/client.ts [--host h] [--port p] [--name n] [--no-reconnect] [--no-color]`:
 * the linechat terminal client. This file only wires options, the
 * reconnecting supervisor and the terminal together and turns the outcome
 * into an exit code: 0 after the user quits with every message acknowledged,
 * 1 when the first connection fails, the server goes away for good or a
 * message may not have arrived, 2 for bad options.
 */
import { SHORTCODE_NAMES } from './client/emoji.ts';
import { ConnectError } from './client/events.ts';
import { clock } from './client/format.ts';
import { renderMarkup } from './client/markup.ts';
import { CLIENT_USAGE, OptionError, parseClientArgs } from './client/options.ts';
import { ChatSupervisor } from './client/reconnect.ts';
import { colorEnabled, createStyle } from './client/style.ts';
import { ChatTerminal } from './client/terminal.ts';

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseClientArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    process.stderr.write(`linechat: ${error.message} (see --help)\n`);
    return 2;
  }
  if (parsed.command === 'help') {
    process.stdout.write(CLIENT_USAGE + '\n');
    return 0;
  }

  const { options } = parsed;
  const isTTY = process.stdout.isTTY === true;
  const color = colorEnabled({ isTTY, env: process.env, flag: options.color ? undefined : false });
  const client = new ChatSupervisor(options);
  const terminal = new ChatTerminal(client, {
    input: process.stdin,
    output: process.stdout,
    interactive: process.stdin.isTTY === true && isTTY,
    render: {
      style: createStyle({ color }),
      // Markup as styles only with colour; emoji for a terminal, the text as typed for a pipe.
      text: (text) => renderMarkup(text, { styles: color, emoji: isTTY }),
      stamp: clock(),
    },
    emoji: SHORTCODE_NAMES,
  });
  try {
    // Only the first connection can fail like this; later drops reconnect.
    await client.start();
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  // A signal is a request to leave; a second one while leaving cuts the
  // connection without waiting for BYE.
  process.on('SIGINT', () => terminal.leave());
  process.on('SIGTERM', () => terminal.leave());
  process.on('SIGHUP', () => terminal.leave());
  return terminal.run();
}

// A reader that stops reading our output (`| head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const code = await main();
// Exit explicitly once output is flushed: an open terminal stdin would
// otherwise keep the process alive after the server has gone.
process.stdout.write('', () => process.exit(code));
