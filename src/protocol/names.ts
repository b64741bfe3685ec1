/** User names (SPEC [NAME-1], [NAME-2]). */

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const RESERVED = new Set(['you']);

/** Why `name` is not a valid name, or undefined when it is. */
export function nameProblem(name: string, maxLength: number): string | undefined {
  if (name.length === 0) return 'A name cannot be empty';
  if (name.length > maxLength) return `A name is at most ${maxLength} characters`;
  if (!NAME.test(name)) return 'A name starts with a letter and holds only A-Z a-z 0-9 - _';
  if (RESERVED.has(foldName(name))) return `The name ${JSON.stringify(name)} is reserved`;
  return undefined;
}

/** The form names are compared in: ASCII letters folded to lower case. */
export function foldName(name: string): string {
  return name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}
