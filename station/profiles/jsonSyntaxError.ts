/**
 * Where a JSON text first breaks the grammar, for a supervisor who edits a profiles file by hand.
 * V8 names a position for some errors only ("Unexpected token ']', …"  after a trailing comma
 * has none, and its wording changes between Node versions), so the text is scanned here instead:
 * the same grammar JSON.parse reads (RFC 8259), stopping at the first character it refuses.
 * Only run after JSON.parse refused the text, so it need not be fast, and builds no values.
 */

/** The offset of the first character the grammar refuses (the text's length: it ends early). */
export interface JsonSyntaxError {
  offset: number;
  /** What was found there, in a supervisor's words. */
  found: string;
  /** What the grammar wanted there. */
  expected: string;
}

class Stop extends Error {
  constructor(
    readonly at: number,
    readonly expected: string,
  ) {
    super(expected);
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/** The first syntax error of `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let at = 0;
  const skip = (): void => {
    while (at < text.length && WHITESPACE.has(text[at]!)) at++;
  };
  const expect = (char: string, what: string): void => {
    if (text[at] !== char) throw new Stop(at, what);
    at++;
  };
  const string = (): void => {
    expect('"', 'a double-quoted string');
    for (;;) {
      const char = text[at];
      if (char === undefined) throw new Stop(at, 'a closing double quote');
      if (char === '"') break;
      if (char < ' ') throw new Stop(at, 'a closing double quote on the same line');
      if (char === '\\') {
        ESCAPE.lastIndex = at;
        if (!ESCAPE.test(text)) throw new Stop(at, 'an escape such as \\" or \\n');
        at = ESCAPE.lastIndex;
      } else at++;
    }
    at++;
  };
  const number = (): void => {
    NUMBER.lastIndex = at;
    if (!NUMBER.test(text)) throw new Stop(at, 'a value');
    at = NUMBER.lastIndex;
  };
  const literal = (word: string): boolean => {
    if (!text.startsWith(word, at)) return false;
    at += word.length;
    return true;
  };
  // Nesting is followed on a stack, not by recursion, so a deeply nested text cannot overflow.
  const value = (): void => {
    const open: ('}' | ']')[] = [];
    for (;;) {
      skip();
      const char = text[at];
      if (char === '{' || char === '[') {
        const close = char === '{' ? '}' : ']';
        at++;
        skip();
        if (text[at] !== close) {
          open.push(close);
          if (close === '}') member();
          continue; // on to the first element
        }
        at++;
      } else if (char === '"') string();
      else if (!literal('true') && !literal('false') && !literal('null')) number();
      // After a value: a comma and the next element, or the end of the innermost open one.
      for (;;) {
        skip();
        const close = open.at(-1);
        if (close === undefined) return;
        if (text[at] === ',') {
          at++;
          if (close === '}') member();
          break;
        }
        expect(close, `"," or "${close}"`);
        open.pop();
      }
    }
  };
  const member = (): void => {
    skip();
    string();
    skip();
    expect(':', '":" after the name');
  };
  try {
    value();
    skip();
    if (at < text.length) throw new Stop(at, 'the end of the text');
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return { offset: err.at, found: describe(text, err.at), expected: err.expected };
  }
}

function describe(text: string, offset: number): string {
  const char = text[offset];
  if (char === undefined) return 'the end of the text';
  if (char === '\n' || char === '\r') return 'the end of the line';
  if (char === '\t') return 'a tab';
  if (char < ' ')
    return `the control character U+${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return `"${char}"`;
}

/** `line 3, column 7` of an offset (both from 1; a tab counts as one column). */
export function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}
