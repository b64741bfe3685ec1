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
});
