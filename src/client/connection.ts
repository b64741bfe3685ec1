/**
 * One TCP connection to a linechat server, as a stream of typed events.
 *
 * It does the protocol work a person should never see: the greeting and
 * HELLO handshake (with a fall-back to a server-chosen name), the first WHO,
 * answering PING ([CLIENT-5]) and noticing a close at once ([CLIENT-3]). It
 * knows nothing about terminals, and never outlives its socket: the
 * reconnecting supervisor (reconnect.ts) opens a fresh ChatConnection after
 * a drop and feeds the same UI, and reads `pending` of the dead one to tell
 * which SAYs were never confirmed.
 *
 * Every request the server will answer goes into a RequestQueue, which is
 * how a rejected SAY or NICK is reported with the text it was about, and how
 * `settled()` knows that every SAY has had its ECHO or ERR ([MSG-8]).
 */
import { connect, type Socket } from 'node:net';
import { isErrorCode, isFatal } from '../protocol/errors.ts';
import { LineFramer } from '../protocol/framer.ts';
import { DEFAULT_LIMITS } from '../protocol/limits.ts';
import { PROTOCOL_VERSION, clientLine, decodeServerMessage, type ServerEvent } from '../protocol/messages.ts';
import { parseText } from '../protocol/parser.ts';
import { ConnectError, Listeners, describeSocketError, type ClientEvent, type CloseCause, type Listener } from './events.ts';
import { splitText } from './input.ts';
import { RequestQueue, type Request, type RequestCommand } from './requests.ts';

export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Wanted name; undefined lets the server assign a guest name. */
  readonly name?: string | undefined;
  readonly connectTimeoutMs?: number;
  /** From TCP connect until WELCOME and the first WHO have arrived. */
  readonly handshakeTimeoutMs?: number;
  /** How long to wait for BYE before closing anyway. */
  readonly quitTimeoutMs?: number;
}

// Servers may announce a READCAP up to 16 MiB and a client must accept any
// line up to it ([LIMIT-6]); the framer only stores what actually arrives.
const MAX_SERVER_LINE = 1 << 24;
const SAY_OVERHEAD = Buffer.byteLength('SAY :');
const NAME_FALLBACK_CODES = new Set(['NAME_IN_USE', 'BAD_NAME']);

type State = 'connecting' | 'greeting' | 'hello' | 'joining' | 'ready' | 'closed';

export class ChatConnection {
  #state: State = 'connecting';
  #socket: Socket | undefined;
  #name = '';
  #assigned: boolean;
  #serverName = '';
  #lineLimit = DEFAULT_LIMITS.line;
  #nameLimit = DEFAULT_LIMITS.nameLength;
  #users: string[] = [];
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

  get name(): string {
    return this.#name;
  }
  get serverName(): string {
    return this.#serverName;
  }
  /** NAMELEN from the greeting. */
  get nameLimit(): number {
    return this.#nameLimit;
  }
  get isReady(): boolean {
    return this.#state === 'ready';
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
    this.#listeners.emit(event);
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

  #handle(event: ServerEvent): void {
    switch (event.type) {
      case 'greeting':
        return this.#onGreeting(event.versions, event.serverName, event.keys);
      case 'welcome':
        if (this.#state !== 'hello') return;
        this.#requests.settle('HELLO');
        this.#name = event.name;
        this.#state = 'joining';
        return this.#request('WHO', clientLine.who(), '');
      case 'error':
        return this.#onError(event.code, event.command, event.text);
      case 'message':
        if (event.own) this.#requests.settle('SAY');
        return this.#emit({ type: 'message', own: event.own, message: event });
      case 'user':
        this.#users.push(event.name);
        return;
      case 'endwho': {
        this.#requests.settle('WHO');
        const users = this.#users;
        this.#users = [];
        if (this.#state !== 'joining') return this.#emit({ type: 'who', users });
        this.#state = 'ready';
        clearTimeout(this.#handshakeTimer);
        return this.#emit({ type: 'ready', name: this.#name, assigned: this.#assigned, users, serverName: this.#serverName });
      }
      case 'join':
      case 'leave':
        return this.#emit(event);
      case 'nick': {
        const own = event.from === this.#name;
        if (own) {
          this.#name = event.to;
          this.#requests.settle('NICK');
        }
        return this.#emit({ type: 'nick', from: event.from, to: event.to, own });
      }
      case 'ping':
        return this.#write(clientLine.pong(event.token));
      case 'bye':
        this.#requests.settle('QUIT');
        // The server closes after BYE ([QUIT-1]); ending our side at once
        // saves waiting for its FIN.
        this.#socket?.end();
        return;
      case 'shutdown':
        return this.#emit({ type: 'shutdown', text: event.text });
      case 'pong':
        return;
    }
  }

  #onGreeting(versions: readonly string[], serverName: string, keys: ReadonlyMap<string, string>): void {
    if (this.#state !== 'greeting') return;
    this.#serverName = serverName;
    if (!versions.includes(PROTOCOL_VERSION)) {
      return this.#fail(`the server speaks protocol version ${versions.join(', ')}, this client only ${PROTOCOL_VERSION}`);
    }
    // Unknown keys are ignored ([SESSION-2]); absent or absurd ones fall back.
    this.#lineLimit = positive(keys.get('LINE'), 64) ?? DEFAULT_LIMITS.line;
    this.#nameLimit = positive(keys.get('NAMELEN'), 1) ?? DEFAULT_LIMITS.nameLength;
    this.#state = 'hello';
    this.#request('HELLO', clientLine.hello(PROTOCOL_VERSION, this.#options.name), this.#options.name ?? '');
  }

  #onError(code: string, command: string, text: string): void {
    // A fatal error is about the connection, not an answer to one line; the
    // close that follows it ends every request anyway ([ERR-2]).
    const request = isErrorCode(code) && isFatal(code) ? undefined : this.#requests.settle(undefined);
    if (this.#state === 'hello' && request?.command === 'HELLO') {
      if (!this.#assigned && NAME_FALLBACK_CODES.has(code)) {
        this.#emit({ type: 'name-rejected', name: request.text, code, text });
        this.#assigned = true;
        return this.#request('HELLO', clientLine.hello(PROTOCOL_VERSION), '');
      }
      return this.#fail(`the server refused to register this client: ${text} (${code})`);
    }
    this.#emit({ type: 'error', code, command, text, request });
  }

  /** Sends a message, split into several SAYs if it is over the server's LINE limit; returns how many. */
  say(text: string): number {
    this.#mustBeReady();
    if (text === '') throw new RangeError('cannot send an empty message [MSG-1]');
    const pieces = splitText(text, this.#lineLimit - SAY_OVERHEAD);
    for (const piece of pieces) this.#request('SAY', clientLine.say(piece), piece);
    return pieces.length;
  }

  /** Asks for a new name; false when it is already the name (the server would not answer, [NAME-4]). */
  nick(name: string): boolean {
    this.#mustBeReady();
    if (name === this.#name) return false;
    this.#request('NICK', clientLine.nick(name), name);
    return true;
  }

  who(): void {
    this.#mustBeReady();
    this.#request('WHO', clientLine.who(), '');
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
    this.#request('QUIT', clientLine.quit(reason), reason);
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

  #request(command: RequestCommand, line: string, text: string): void {
    this.#requests.push({ command, text });
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
    this.#emit({ type: 'closed', cause, reason });
    this.#resolveClosed();
  }
}

function positive(value: string | undefined, min: number): number | undefined {
  if (value === undefined || !/^[0-9]{1,9}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min ? n : undefined;
}
