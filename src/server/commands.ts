/**
 * Command handlers, one small function per command, and the table that
 * states each command's preconditions. `dispatch` enforces the table and is
 * the only place that turns a ProtocolError into an `ERR` reply ([ERR-1]).
 */
import { ProtocolError, isFatal } from '../protocol/errors.ts';
import { LeaveReason, SUPPORTED_VERSIONS, serverLine } from '../protocol/messages.ts';
import type { Message } from '../protocol/parser.ts';
import type { Hub } from './hub.ts';
import { SessionState, type Session } from './session.ts';

/** What a handler may touch besides the hub. */
export interface CommandContext {
  readonly hub: Hub;
  readonly log: (line: string) => void;
  /** Whether each message's text goes to the log (--log-messages). */
  readonly logMessages: boolean;
  /** Takes the session offline, then closes its connection after `lastLine`. */
  disconnect(session: Session, reason: LeaveReason, text: string, lastLine?: string): void;
}

type Handler = (ctx: CommandContext, session: Session, params: readonly string[]) => void;

/** The session state a command needs ([SESSION-7], [SESSION-8]). */
type Needs = 'registered' | 'greeting' | 'any';

interface CommandSpec {
  readonly min: number;
  readonly max: number;
  readonly needs: Needs;
  readonly usage: string;
  readonly handler: Handler;
}

const MAX_TOKEN = 64;

// HELLO <version> [<name>]
const hello: Handler = (ctx, session, [version, name]) => {
  if (!SUPPORTED_VERSIONS.includes(version!)) {
    throw new ProtocolError(
      'UNSUPPORTED_VERSION',
      'HELLO',
      `Protocol version ${version} is not supported; this server speaks ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  const registered = ctx.hub.register(session, name);
  const others = ctx.hub.online - 1;
  session.send(serverLine.welcome(registered, `Hello ${registered}, ${others} other ${others === 1 ? 'user' : 'users'} online.`));
  ctx.log(`Registered ${session.connection.remote} (#${session.id}) as ${registered}`);
};

// NICK <name>
const nick: Handler = (ctx, session, [name]) => {
  const old = ctx.hub.rename(session, name!);
  if (old !== undefined) ctx.log(`Renamed ${old} to ${name}`);
};

// SAY :<text>
const say: Handler = (ctx, session, [text]) => {
  if (text === '') throw new ProtocolError('BAD_PARAMS', 'SAY', 'Nothing to say: the text is empty');
  ctx.hub.say(session, text!);
  if (ctx.logMessages) ctx.log(`Message from ${session.name}: ${text}`);
};

// WHO
const who: Handler = (ctx, session) => {
  const names = ctx.hub.who();
  session.send(names.map(serverLine.user).join('') + serverLine.endWho(names.length));
};

// PING <token>
const ping: Handler = (_ctx, session, [token]) => {
  checkToken('PING', token!);
  session.send(serverLine.pong(token!));
};

// PONG <token>: any line is a sign of life ([PING-3]); nothing to answer.
const pong: Handler = (_ctx, _session, [token]) => checkToken('PONG', token!);

// QUIT [:<reason>]
const quit: Handler = (ctx, session, [reason = '']) => {
  ctx.disconnect(session, LeaveReason.Quit, reason, serverLine.bye(reason));
};

function checkToken(command: string, token: string): void {
  if (token === '' || Buffer.byteLength(token) > MAX_TOKEN) {
    throw new ProtocolError('BAD_PARAMS', command, `A token is 1 to ${MAX_TOKEN} bytes`);
  }
}

export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  HELLO: { min: 1, max: 2, needs: 'greeting', usage: 'HELLO <version> [<name>]', handler: hello },
  NICK: { min: 1, max: 1, needs: 'registered', usage: 'NICK <name>', handler: nick },
  SAY: { min: 1, max: 1, needs: 'registered', usage: 'SAY :<text>', handler: say },
  WHO: { min: 0, max: 0, needs: 'registered', usage: 'WHO', handler: who },
  PING: { min: 1, max: 1, needs: 'any', usage: 'PING <token>', handler: ping },
  PONG: { min: 1, max: 1, needs: 'any', usage: 'PONG <token>', handler: pong },
  QUIT: { min: 0, max: 1, needs: 'any', usage: 'QUIT [:<reason>]', handler: quit },
};

/**
 * Runs one parsed line: checks, in the order [LINE-7] fixes, that the command
 * exists, that the session is in the right state, and the parameter count;
 * then runs the handler.
 */
export function dispatch(ctx: CommandContext, session: Session, { command, params }: Message): void {
  try {
    const spec = COMMANDS[command];
    if (spec === undefined) throw new ProtocolError('UNKNOWN_COMMAND', command, `Unknown command ${command}`);
    const registered = session.state === SessionState.Registered;
    if (spec.needs === 'registered' && !registered) {
      throw new ProtocolError('NOT_REGISTERED', command, 'Say HELLO 1 <name> first');
    }
    if (spec.needs === 'greeting' && registered) {
      throw new ProtocolError('ALREADY_REGISTERED', command, `You are already registered as ${session.name}`);
    }
    if (params.length < spec.min || params.length > spec.max) {
      const hint = params.length > spec.max && spec.usage.includes(':') ? '; put a : before text with spaces' : '';
      throw new ProtocolError('BAD_PARAMS', command, `Usage: ${spec.usage}${hint}`);
    }
    spec.handler(ctx, session, params);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    replyError(ctx, session, error);
  }
}

/** The one mapping from a ProtocolError to the wire ([ERR-1], [ERR-2]). */
export function replyError(ctx: CommandContext, session: Session, error: ProtocolError): void {
  const line = serverLine.error(error.code, error.command, error.message);
  if (!isFatal(error.code)) session.send(line);
  else if (error.code === 'PING_TIMEOUT') ctx.disconnect(session, LeaveReason.Timeout, error.message, line);
  else ctx.disconnect(session, LeaveReason.Error, error.code, line);
}

