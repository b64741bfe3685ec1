/**
 * One TCP connection to a linechat server, as a stream of typed events.
 *
 * It does the protocol work a person should never see: the greeting and
 * HELLO handshake (with a fall-back to a server-chosen name), the first WHO,
 * answering PING ([CLIENT-5]) and noticing a close at once ([CLIENT-3]).
 * Multi-line replies become one event each: a HIST batch with its ENDHIST,
 * the USER lines of a WHO, the ROOM lines of a ROOMS. The lobby's JOIN and
 * replay ([SESSION-5]) arrive before the first WHO is answered; they are
 * held and reported just after `ready`, so whoever listens sees the session
 * start before anything happens in it. It
 * knows nothing about terminals, and never outlives its socket: the
 * reconnecting supervisor (reconnect.ts) opens a fresh ChatConnection after
 * a drop and feeds the same UI, and reads `pending` of the dead one to tell
 * which SAYs were never confirmed.
 *
 * Every request the server will answer goes into a RequestQueue, which is
 * how a rejected SAY or NICK is reported with the text it was about, which
 * room a WHO or a HISTORY batch is about, and how `settled()` knows that
 * every SAY has had its ECHO or ERR ([MSG-8]).
 */
import { connect, type Socket } from 'node:net';
import { isErrorCode, isFatal } from '../protocol/errors.ts';
import { LineFramer } from '../protocol/framer.ts';
import type { HistoryQuery } from '../protocol/history.ts';
import { PROTOCOL_VERSION, clientLine, decodeServerMessage, type ChatMessage, type ServerEvent } from '../protocol/messages.ts';
import { foldName, roomProblem } from '../protocol/names.ts';
import { parseText } from '../protocol/parser.ts';
import {
  ConnectError,
  Listeners,
  describeSocketError,
  type ClientEvent,
  type CloseCause,
  type Listener,
  type RoomInfo,
  type UserInfo,
} from './events.ts';
import { splitText } from './input.ts';
import { JoiningHold } from './joining-hold.ts';
import { RequestQueue, type Request } from './requests.ts';
import { DEFAULT_SERVER_LIMITS, readServerLimits, type ServerLimits } from './server-limits.ts';

export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Wanted name; undefined lets the server assign a guest name. */
  readonly name?: string | undefined;
  /** The key of an earlier registration under `name`: takes it back as the same holder ([NAME-5]). */
  readonly key?: string | undefined;
  readonly connectTimeoutMs?: number;
  /** From TCP connect until WELCOME and the first WHO have arrived. */
  readonly handshakeTimeoutMs?: number;
  /** How long to wait for BYE before closing anyway. */
  readonly quitTimeoutMs?: number;
}

export type { ServerLimits } from './server-limits.ts';

// Servers may announce a READCAP up to 16 MiB and a client must accept any
// line up to it ([LIMIT-6]); the framer only stores what actually arrives.
const MAX_SERVER_LINE = 1 << 24;
/** HIST lines kept for one batch; a server that never sends ENDHIST cannot grow memory past this. */
const MAX_BATCH = 10_000;
const NAME_FALLBACK_CODES = new Set(['NAME_IN_USE', 'BAD_NAME']);
/** Events held while joining ([SESSION-5]) and reported after `ready`. */
const HELD_WHILE_JOINING = new Set<ClientEvent['type']>(['message', 'history', 'join', 'leave', 'room', 'rooms', 'topic', 'nick', 'who']);
/**
 * How much is held while joining (joining-hold.ts), counting a HIST batch
 * as its messages: a replay as long as any batch this client keeps, and
 * 4096 events more, far more than the lobby's JOIN, ROOM and replay and
 * what happens during one WHO.
 */
export const MAX_HELD_WHILE_JOINING = MAX_BATCH + 4096;

type State = 'connecting' | 'greeting' | 'hello' | 'joining' | 'ready' | 'closed';

export class ChatConnection {
  #state: State = 'connecting';
  #socket: Socket | undefined;
  #name = '';
  #key = '';
  #assigned: boolean;
  #serverName = '';
  #limits = DEFAULT_SERVER_LIMITS;
  #lobby: string | undefined;
  #users: UserInfo[] = [];
  #roomList: RoomInfo[] = [];
  #batch: ChatMessage[] = [];
  readonly #held = new JoiningHold(MAX_HELD_WHILE_JOINING);
  readonly #requests = new RequestQueue();
  #quitting = false;
  #failure: string | undefined;
  #error: Error | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #quitTimer: NodeJS.Timeout | undefined;
  readonly #listeners = new Listeners<ClientEvent>();
  readonly #options: ConnectionOptions;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#assigned = options.name === undefined;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** The key WELCOME gave; empty before registration. */
  get key(): string {
    return this.#key;
  }
  get name(): string {
    return this.#name;
  }
  get serverName(): string {
    return this.#serverName;
  }
  /** NAMELEN from the greeting. */
  get nameLimit(): number {
    return this.#limits.nameLength;
  }
  get limits(): ServerLimits {
    return this.#limits;
  }
  /** The room the server joins every client to ([ROOM-2]); undefined when it announced none. */
  get lobby(): string | undefined {
    return this.#lobby;
  }
  get isReady(): boolean {
    return this.#state === 'ready';
  }
  /** Registered and not leaving: requests may be sent. */
  get canSend(): boolean {
    return this.#state === 'ready' && !this.#quitting;
  }
  get isClosed(): boolean {
    return this.#state === 'closed';
  }
  /** Requests sent and not yet answered, oldest first. */
  get pending(): readonly Request[] {
    return this.#requests.items;
  }

  subscribe(listener: Listener): () => void {
    return this.#listeners.subscribe(listener);
  }

  #emit(event: ClientEvent): void {
    if (this.#state === 'joining' && HELD_WHILE_JOINING.has(event.type)) this.#held.hold(event);
    else this.#listeners.emit(event);
  }

  /** Resolves once TCP is connected; the handshake then runs by itself. */
  open(): Promise<void> {
    const { host, port, connectTimeoutMs = 10_000, handshakeTimeoutMs = 10_000 } = this.#options;
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      this.#socket = socket;
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), connectTimeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.#state = 'closed';
        this.#resolveClosed();
        reject(new ConnectError(`Could not connect to ${host}:${port}: ${describeSocketError(error)}`, { cause: error }));
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        this.#state = 'greeting';
        this.#wire(socket);
        this.#handshakeTimer = setTimeout(
          () => this.#fail(`no answer from the server within ${handshakeTimeoutMs / 1000} s; is it a linechat server?`),
          handshakeTimeoutMs,
        );
        resolve();
      });
    });
  }

  #wire(socket: Socket): void {
    const framer = new LineFramer(
      { line: MAX_SERVER_LINE, readCap: MAX_SERVER_LINE + 1 },
      {
        line: (bytes) => this.#onLine(bytes),
        lineTooLong: (length) => this.#emit({ type: 'warning', text: `Ignored a line of ${length} bytes from the server` }),
        overflow: () => socket.destroy(new Error(`the server sent more than ${MAX_SERVER_LINE} bytes without a line end`)),
      },
    );
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('error', (error) => (this.#error ??= error));
    socket.on('close', () => this.#onClose());
  }

  #onLine(bytes: Buffer): void {
    if (this.#state === 'closed') return;
    // Deliberately lenient: a line with control characters or bad UTF-8 is
    // still shown (neutralised by the UI), so a hostile server cannot hide
    // what it sent, and one malformed line does not end the session.
    const parsed = parseText(bytes.toString('utf8'));
    if (parsed.kind !== 'message') return;
    const event = decodeServerMessage(parsed.message);
    // Commands this version does not know are ignored ([ERR-4]).
    if (event !== undefined) this.#handle(event);
  }

  /** One reply family per method; the greeting and ERR have their own below. */
  #handle(event: ServerEvent): void {
    switch (event.type) {
      case 'greeting':
        return this.#onGreeting(event.versions, event.serverName, event.keys);
      case 'welcome':
        return this.#onWelcome(event);
      case 'error':
        return this.#onError(event.code, event.command, event.text);
      case 'message':
      case 'history':
      case 'endhistory':
        return this.#onChat(event);
      case 'join':
      case 'leave':
      case 'nick':
        return this.#onPresence(event);
      case 'room':
      case 'endrooms':
        return this.#onRooms(event);
      case 'topic':
        return this.#onTopic(event);
      case 'user':
      case 'endwho':
        return this.#onWho(event);
      case 'ping':
      case 'pong':
      case 'bye':
      case 'shutdown':
        return this.#onControl(event);
    }
  }

  /** `WELCOME <name> <key>`: registered; the first WHO ends the handshake. */
  #onWelcome(event: Extract<ServerEvent, { type: 'welcome' }>): void {
    if (this.#state !== 'hello') return;
    this.#requests.settle('HELLO');
    this.#name = event.name;
    this.#key = event.key;
    this.#state = 'joining';
    this.#request({ command: 'WHO', text: '' }, clientLine.who());
  }

  /** `MSG`/`ECHO` (an ECHO settles our SAY or ME), and `HIST` lines gathered until `ENDHIST`. */
  #onChat(event: Extract<ServerEvent, { type: 'message' | 'history' | 'endhistory' }>): void {
    switch (event.type) {
      case 'message': {
        const { type: _, own, ...message } = event;
        if (own) this.#requests.settle(['SAY', 'ME']);
        return this.#emit({ type: 'message', own, message });
      }
      case 'history': {
        const { type: _, ...message } = event;
        if (this.#batch.length < MAX_BATCH) this.#batch.push(message);
        return;
      }
      case 'endhistory': {
        const request = this.#requests.settle(['JOIN', 'HISTORY']);
        const messages = this.#batch;
        this.#batch = [];
        return this.#emit({ type: 'history', target: event.target, messages, request });
      }
    }
  }

  /** `JOIN`, `LEAVE` (our own part settles PART) and `NICK` (our own settles NICK). */
  #onPresence(event: Extract<ServerEvent, { type: 'join' | 'leave' | 'nick' }>): void {
    switch (event.type) {
      case 'join':
        return this.#emit({ type: 'join', room: event.room, name: event.name, own: this.#isSelf(event.name) });
      case 'leave': {
        const own = this.#isSelf(event.name);
        if (own && event.reason === 'part') this.#requests.settle((r) => r.command === 'PART' && sameName(r.target, event.room));
        return this.#emit({ type: 'leave', room: event.room, name: event.name, reason: event.reason, text: event.text, own });
      }
      case 'nick': {
        const own = this.#isSelf(event.from);
        if (own) {
          this.#name = event.to;
          this.#requests.settle('NICK');
        }
        return this.#emit({ type: 'nick', from: event.from, to: event.to, own });
      }
    }
  }

  /** `ROOM` lines: gathered while ROOMS is answered until `ENDROOMS`, else the one after our own JOIN ([ROOM-3]). */
  #onRooms(event: Extract<ServerEvent, { type: 'room' | 'endrooms' }>): void {
    if (event.type === 'endrooms') {
      this.#requests.settle('ROOMS');
      const rooms = this.#roomList;
      this.#roomList = [];
      return this.#emit({ type: 'rooms', rooms });
    }
    const room = { room: event.room, members: event.members, topic: event.topic };
    if (this.#requests.head?.command !== 'ROOMS') return this.#emit({ type: 'room', ...room });
    if (this.#roomList.length < MAX_BATCH) this.#roomList.push(room);
  }

  /**
   * `TOPIC`: our TOPIC is answered in its place ([MSG-8]), by the first
   * TOPIC of its room once every earlier request has been answered. Any
   * other TOPIC line is a change someone made ([ROOM-7]).
   */
  #onTopic(event: Extract<ServerEvent, { type: 'topic' }>): void {
    const head = this.#requests.head;
    const ours = head?.command === 'TOPIC' && sameName(head.target, event.room);
    const request = ours ? this.#requests.settle((r) => r === head) : undefined;
    const { type: _, ...topic } = event;
    this.#emit({ type: 'topic', ...topic, request });
  }

  /** `USER` lines until `ENDWHO`; the first WHO's answer ends the handshake. */
  #onWho(event: Extract<ServerEvent, { type: 'user' | 'endwho' }>): void {
    if (event.type === 'user') {
      if (this.#users.length < MAX_BATCH) this.#users.push({ name: event.name, idle: event.idle });
      return;
    }
    const request = this.#requests.settle('WHO');
    const users = this.#users;
    this.#users = [];
    if (this.#state === 'joining') return this.#onReady(users);
    this.#emit({ type: 'who', room: request?.target, users });
  }

  /** Ready: reports it, then what was held while joining ([SESSION-5]). */
  #onReady(users: readonly UserInfo[]): void {
    this.#state = 'ready';
    clearTimeout(this.#handshakeTimer);
    const names = users.map((u) => u.name);
    const joined = this.#held.joined;
    this.#emit({ type: 'ready', name: this.#name, assigned: this.#assigned, users: names, serverName: this.#serverName, joined });
    const { events: held, dropped } = this.#held.take();
    if (dropped > 0) {
      this.#emit({ type: 'warning', text: `The server sent more than could be kept while joining; ${dropped} of its events are not shown.` });
    }
    for (const e of held) if (this.#state === 'ready') this.#emit(e);
  }

  /** `PING` ([CLIENT-5]), `PONG`, `BYE` (settles QUIT) and `SHUTDOWN`. */
  #onControl(event: Extract<ServerEvent, { type: 'ping' | 'pong' | 'bye' | 'shutdown' }>): void {
    switch (event.type) {
      case 'ping':
        return this.#write(clientLine.pong(event.token));
      case 'pong':
        return;
      case 'bye':
        this.#requests.settle('QUIT');
        // The server closes after BYE ([QUIT-1]); ending our side at once
        // saves waiting for its FIN.
        this.#socket?.end();
        return;
      case 'shutdown':
        return this.#emit({ type: 'shutdown', text: event.text });
    }
  }

  #isSelf(name: string): boolean {
    return this.#name !== '' && foldName(name) === foldName(this.#name);
  }

  #onGreeting(versions: readonly string[], serverName: string, keys: ReadonlyMap<string, string>): void {
    if (this.#state !== 'greeting') return;
    this.#serverName = serverName;
    if (!versions.includes(PROTOCOL_VERSION)) {
      return this.#fail(`the server speaks protocol version ${versions.join(', ')}, this client only ${PROTOCOL_VERSION}`);
    }
    // Unknown keys are ignored ([SESSION-2]); absent or absurd ones fall back.
    this.#limits = readServerLimits(keys);
    const lobby = keys.get('LOBBY');
    this.#lobby = lobby !== undefined && roomProblem(lobby, this.#limits.roomLength) === undefined ? lobby : undefined;
    this.#state = 'hello';
    this.#request({ command: 'HELLO', text: this.#options.name ?? '' }, clientLine.hello(PROTOCOL_VERSION, this.#options.name, this.#options.name === undefined ? undefined : this.#options.key));
  }

  #onError(code: string, command: string, text: string): void {
    // A fatal error is about the connection, not an answer to one line; the
    // close that follows it ends every request anyway ([ERR-2]).
    const request = isErrorCode(code) && isFatal(code) ? undefined : this.#requests.settle(undefined);
    if (this.#state === 'hello' && request?.command === 'HELLO') {
      if (!this.#assigned && NAME_FALLBACK_CODES.has(code)) {
        this.#emit({ type: 'name-rejected', name: request.text, code, text });
        this.#assigned = true;
        return this.#request({ command: 'HELLO', text: '' }, clientLine.hello(PROTOCOL_VERSION));
      }
      return this.#fail(`the server refused to register this client: ${text} (${code})`);
    }
    this.#emit({ type: 'error', code, command, text, request });
  }

  /**
   * Sends a message to `target` (a room or a user; undefined is the lobby),
   * split into several lines if it is over the server's LINE limit; returns
   * how many. `target` must be a valid room or user name.
   */
  say(target: string | undefined, text: string): number {
    return this.#send('SAY', target, text);
  }

  /** Sends an action (`/me waves`, [MSG-9]) like `say`. */
  me(target: string | undefined, text: string): number {
    return this.#send('ME', target, text);
  }

  #send(command: 'SAY' | 'ME', target: string | undefined, text: string): number {
    this.#mustBeReady();
    if (text === '') throw new RangeError('cannot send an empty message [MSG-1]');
    const overhead = Buffer.byteLength(`${command} ${target === undefined ? '' : target + ' '}:`);
    const pieces = splitText(text, this.#limits.line - overhead);
    const format = command === 'SAY' ? clientLine.say : clientLine.me;
    for (const piece of pieces) this.#request({ command, text: piece, target }, format(target, piece));
    return pieces.length;
  }

  /** Asks for a new name; false when it is already the name (the server would not answer, [NAME-4]). */
  nick(name: string): boolean {
    this.#mustBeReady();
    if (name === this.#name) return false;
    this.#request({ command: 'NICK', text: name }, clientLine.nick(name));
    return true;
  }

  /** Asks who is online, or who is in `room`. */
  who(room?: string): void {
    this.#mustBeReady();
    this.#request({ command: 'WHO', text: '', target: room }, clientLine.who(room));
  }

  join(room: string, tag?: string): void {
    this.#mustBeReady();
    this.#request({ command: 'JOIN', text: room, target: room, tag }, clientLine.join(room));
  }

  part(room: string, reason = ''): void {
    this.#mustBeReady();
    this.#request({ command: 'PART', text: reason, target: room }, clientLine.part(room, reason));
  }

  rooms(): void {
    this.#mustBeReady();
    this.#request({ command: 'ROOMS', text: '' }, clientLine.rooms());
  }

  /** Asks for a room's topic, or sets it when `text` is given. */
  topic(room: string, text?: string): void {
    this.#mustBeReady();
    this.#request({ command: 'TOPIC', text: text ?? '', target: room, tag: text === undefined ? 'read' : 'set' }, clientLine.topic(room, text));
  }

  /** Asks for a page of history ([HIST-2]); `tag` comes back on the reply's request. */
  history(target: string, query: HistoryQuery, tag?: string): void {
    this.#mustBeReady();
    this.#request({ command: 'HISTORY', text: '', target, tag }, clientLine.history(target, query));
  }

  /** Resolves when every request has been answered, or the connection is gone. */
  settled(): Promise<void> {
    return this.#state === 'closed' ? Promise.resolve() : this.#requests.whenEmpty();
  }

  /** Sends QUIT and resolves once the connection is closed, forcibly if BYE takes too long. */
  quit(reason = ''): Promise<void> {
    if (this.#state === 'closed' || this.#quitting) return this.closed;
    this.#quitting = true;
    if (this.#state === 'connecting') return this.close();
    this.#request({ command: 'QUIT', text: reason }, clientLine.quit(reason));
    this.#quitTimer = setTimeout(() => this.#socket?.destroy(), this.#options.quitTimeoutMs ?? 3_000);
    return this.closed;
  }

  /** Closes at once without QUIT (the server announces `lost`). */
  close(): Promise<void> {
    this.#quitting = true;
    if (this.#socket === undefined) {
      this.#state = 'closed';
      this.#resolveClosed();
    } else if (this.#state === 'connecting') {
      // An error, not a plain destroy, so that open() rejects instead of hanging.
      this.#socket.destroy(new Error('cancelled'));
    } else this.#socket.destroy();
    return this.closed;
  }

  #mustBeReady(): void {
    if (this.#state !== 'ready' || this.#quitting) throw new Error(`not connected and registered (state ${this.#state})`);
  }

  #request(request: Request, line: string): void {
    this.#requests.push(request);
    this.#write(line);
  }

  #write(line: string): void {
    const socket = this.#socket;
    if (socket !== undefined && !socket.destroyed && socket.writable) socket.write(line);
  }

  #fail(reason: string): void {
    if (this.#state === 'closed') return;
    this.#failure ??= reason;
    this.#socket?.destroy();
  }

  #onClose(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#quitTimer);
    let cause: CloseCause = 'eof';
    let reason = '';
    if (this.#failure !== undefined) [cause, reason] = ['failed', this.#failure];
    else if (this.#quitting) cause = 'quit';
    else if (this.#error !== undefined) [cause, reason] = ['error', describeSocketError(this.#error)];
    this.#requests.abandon();
    this.#held.clear();
    this.#emit({ type: 'closed', cause, reason });
    this.#resolveClosed();
  }
}

function sameName(a: string | undefined, b: string): boolean {
  return a !== undefined && foldName(a) === foldName(b);
}
