/**
 * Command handlers, one small function per command, and the table that
 * states each command's preconditions. `dispatch` enforces the table and is
 * the only place that turns a ProtocolError into an `ERR` reply ([ERR-1]).
 */
import { ProtocolError, isFatal } from '../protocol/errors.ts';
import { parseHistoryQuery } from '../protocol/history.ts';
import { isRoomName, isToken } from '../protocol/names.ts';
import { LeaveReason, MessageKind, SUPPORTED_VERSIONS, serverLine } from '../protocol/messages.ts';
import type { Message } from '../protocol/parser.ts';
import { historyBatch, type Hub } from './hub.ts';
import { SessionState, type Session } from './session.ts';

/** What a handler may touch besides the hub. */
export interface CommandContext {
  readonly hub: Hub;
  readonly log: (line: string) => void;
  /** Whether each message's text goes to the log (--log-messages). */
  readonly logMessages: boolean;
  /** HISTLIMIT: the most messages one HISTORY reply holds. */
  readonly historyPage: number;
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

// HELLO <version> [<name> [<key>]]
const hello: Handler = (ctx, session, [version, name, key]) => {
  if (!SUPPORTED_VERSIONS.includes(version!)) {
    throw new ProtocolError(
      'UNSUPPORTED_VERSION',
      'HELLO',
      `Protocol version ${version} is not supported; this server speaks ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  if (key !== undefined && !isToken(key)) throw new ProtocolError('BAD_PARAMS', 'HELLO', 'A key is 1 to 64 characters of A-Z a-z 0-9 - _');
  const registered = ctx.hub.register(session, name, key);
  const others = ctx.hub.online - 1;
  session.send(serverLine.welcome(registered, session.key, `Hello ${registered}, ${others} other ${others === 1 ? 'user' : 'users'} online.`));
  ctx.log(`Registered ${session.connection.remote} (#${session.id}) as ${registered}`);
  // [SESSION-5]: the lobby's JOIN replies come before the next line is read.
  if (ctx.hub.lobby !== undefined) ctx.hub.join(session, ctx.hub.lobby);
};

// NICK <name>
const nick: Handler = (ctx, session, [name]) => {
  const old = ctx.hub.rename(session, name!);
  if (old !== undefined) ctx.log(`Renamed ${old} to ${name}`);
};

/** SAY and ME: `[<target>] :<text>`, one parameter being the text ([MSG-1], [MSG-9]). */
function sender(command: 'SAY' | 'ME', kind: MessageKind): Handler {
  return (ctx, session, params) => {
    const [target, text] = params.length === 2 ? [params[0], params[1]!] : [undefined, params[0]!];
    if (text === '') throw new ProtocolError('BAD_PARAMS', command, `Nothing to ${command === 'SAY' ? 'say' : 'do'}: the text is empty`);
    const message = ctx.hub.say(session, target, kind, text, command);
    if (!ctx.logMessages) return;
    // A private message's text stays between its two people ([MSG-10]); the log says only that it was sent.
    const shown = isRoomName(message.to) ? `: ${text}` : ' (private)';
    ctx.log(`Message ${message.id} from ${session.name} to ${message.to}${shown}`);
  };
}

// SAY [<target>] :<text>
const say = sender('SAY', MessageKind.Say);

// ME [<target>] :<action>
const me = sender('ME', MessageKind.Me);

// JOIN <room>
const join: Handler = (ctx, session, [room]) => ctx.hub.join(session, room!);

// PART <room> [:<reason>]
const part: Handler = (ctx, session, [room, reason = '']) => ctx.hub.part(session, room!, reason);

// ROOMS
const rooms: Handler = (ctx, session) => {
  const list = ctx.hub.rooms();
  session.send(list.map((r) => serverLine.room(r.name, r.members, r.topic.text)).join('') + serverLine.endRooms(list.length));
};

// TOPIC <room> [:<text>]
const topic: Handler = (ctx, session, [room, text]) => ctx.hub.topic(session, room!, text);

// WHO [<room>]
const who: Handler = (ctx, session, [room]) => {
  const users = ctx.hub.who(room);
  session.send(users.map((u) => serverLine.user(u.name, u.idle)).join('') + serverLine.endWho(users.length));
};

// HISTORY <target> LATEST|BEFORE|AFTER|BETWEEN [<ref> [<ref>]] <limit>
const history: Handler = (ctx, session, [target, ...selector]) => {
  const query = parseHistoryQuery(selector, ctx.historyPage);
  if (typeof query === 'string') throw new ProtocolError('BAD_PARAMS', 'HISTORY', query);
  session.send(historyBatch(target!, ctx.hub.history(session, target!, query)));
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
  HELLO: { min: 1, max: 3, needs: 'greeting', usage: 'HELLO <version> [<name> [<key>]]', handler: hello },
  NICK: { min: 1, max: 1, needs: 'registered', usage: 'NICK <name>', handler: nick },
  SAY: { min: 1, max: 2, needs: 'registered', usage: 'SAY [<target>] :<text>', handler: say },
  ME: { min: 1, max: 2, needs: 'registered', usage: 'ME [<target>] :<action>', handler: me },
  JOIN: { min: 1, max: 1, needs: 'registered', usage: 'JOIN <room>', handler: join },
  PART: { min: 1, max: 2, needs: 'registered', usage: 'PART <room> [:<reason>]', handler: part },
  ROOMS: { min: 0, max: 0, needs: 'registered', usage: 'ROOMS', handler: rooms },
  TOPIC: { min: 1, max: 2, needs: 'registered', usage: 'TOPIC <room> [:<text>]', handler: topic },
  WHO: { min: 0, max: 1, needs: 'registered', usage: 'WHO [<room>]', handler: who },
  HISTORY: { min: 3, max: 5, needs: 'registered', usage: 'HISTORY <target> LATEST|BEFORE|AFTER|BETWEEN [<ref> [<ref>]] <limit>', handler: history },
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

