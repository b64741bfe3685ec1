import { describe, expect, it } from 'vitest';
import { MAX_CANDIDATES, Vocabulary, complete, type CompletionSources } from '../../../src/client/completion.ts';
import { COMMANDS } from '../../../src/client/input.ts';

const sources: CompletionSources = {
  commands: COMMANDS,
  users: ['alice', 'Albert', 'bob', 'ALICE'],
  rooms: ['#lobby', '#rust', '#Rustaceans', '#lobby'],
  emoji: ['+1', 'taco', 'tada', 'thumbsup', 'tiger'],
};
const c = (line: string) => complete(line, sources);

describe('complete: what Tab offers for the word before the cursor', () => {
  it('completes command names at the start of the line, with a space after', () => {
    expect(c('/jo')).toEqual([['/join '], '/jo']);
    expect(c('/m')).toEqual([['/me ', '/msg '], '/m']);
    expect(c('/')).toEqual([COMMANDS.map((x) => x + ' '), '/']);
    expect(c('/JO')).toEqual([['/join '], '/JO']);
    expect(c('/nope')).toEqual([[], '/nope']);
    // Not after the first word, and not for //text.
    expect(c('see /jo')).toEqual([[], '/jo']);
    expect(c('//jo')).toEqual([[], '//jo']);
  });

  it('completes rooms after #, without regard to case, once each, in the server\'s spelling', () => {
    expect(c('/join #ru')).toEqual([['#rust ', '#Rustaceans '], '#ru']);
    expect(c('/part #L')).toEqual([['#lobby '], '#L']);
    expect(c('look at #')).toEqual([['#lobby ', '#rust ', '#Rustaceans '], '#']);
  });

  it('completes user names, once each; a name that starts a message addresses that person', () => {
    expect(c('al')).toEqual([['Albert: ', 'alice: '], 'al']);
    expect(c('hi b')).toEqual([['bob '], 'b']);
    expect(c('/msg B')).toEqual([['bob '], 'B']);
    expect(c('hello ')).toEqual([[], '']);
    expect(c('')).toEqual([[], '']);
  });

  it('completes :shortcodes: to the whole code', () => {
    expect(c('party :ta')).toEqual([[':taco: ', ':tada: '], ':ta']);
    expect(c(':+')).toEqual([[':+1: '], ':+']);
    expect(c('time 12:')).toEqual([[], '12:']);
    expect(c('a :')).toEqual([[], ':']);
    expect(c('a :Ta')).toEqual([[], ':Ta']);
  });

  it('[CLIENT-1] offers only valid names and rooms, whatever its sources hold', () => {
    const hostile: CompletionSources = {
      ...sources,
      users: ['al\u001b[2J', 'al\u202eice', 'al\u009b', 'al\u2029', 'al\u0000', 'al' + 'i'.repeat(63), 'al ice', 'al#', 'alice'],
      rooms: ['#l\u001b]2;x\u0007', '#l\u202e', '#l\u0085', '#l' + 'o'.repeat(63), '#l obby', '#lobby'],
    };
    expect(complete('al', hostile)).toEqual([['alice: '], 'al']);
    expect(complete('/join #l', hostile)).toEqual([['#lobby '], '#l']);
    // 64 characters is still a name.
    expect(complete('al', { ...hostile, users: ['al' + 'i'.repeat(62)] })[0]).toHaveLength(1);
  });

  it('offers at most a bounded number of candidates', () => {
    const many = { ...sources, users: Array.from({ length: 500 }, (_, i) => `user${i}`) };
    expect(complete('user', many)[0]).toHaveLength(MAX_CANDIDATES);
  });
});

describe('Vocabulary: the names and rooms seen', () => {
  it('keeps one entry per folded name, in the latest spelling, and forgets the oldest past its capacity', () => {
    const v = new Vocabulary(3);
    v.addUser('alice');
    v.addUser('bob');
    v.addUser('ALICE');
    expect([...v.users]).toEqual(['bob', 'ALICE']);
    v.renameUser('bob', 'robert');
    expect([...v.users]).toEqual(['ALICE', 'robert']);
    v.addUser('carol');
    v.addUser('dave');
    expect([...v.users]).toEqual(['robert', 'carol', 'dave']);
    v.removeUser('CAROL');
    expect([...v.users]).toEqual(['robert', 'dave']);
    v.addRoom('#Rust');
    v.addRoom('#rust');
    expect([...v.rooms]).toEqual(['#rust']);
  });

  it('[CLIENT-1] drops names and rooms that are not valid, so they neither show nor push valid ones out', () => {
    const v = new Vocabulary(2);
    v.addUser('alice');
    v.addRoom('#lobby');
    for (const bad of ['\u001b[31mred', 'bob\u202e', 'c\u0085', '', 'x'.repeat(65), 'you', '1abc', 'a b']) v.addUser(bad);
    for (const bad of ['#\u001b[2J', '#r\u202e', 'rust', '#', '#' + 'r'.repeat(64), '#-x', '#a b']) v.addRoom(bad);
    v.renameUser('alice', 'ev\u001bil');
    expect([...v.users]).toEqual([]);
    v.addUser('bob');
    expect([...v.users]).toEqual(['bob']);
    expect([...v.rooms]).toEqual(['#lobby']);
  });
});
