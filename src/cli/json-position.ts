/**
 * Where and why a text is not JSON. `JSON.parse` only sometimes says where (it depends on the
 * error and the Node version), so a small validating scanner finds the first bad character.
 */

/** The first problem in `text`, or undefined when it is valid JSON. */
export function findJsonError(text: string): { index: number; expected: string } | undefined {
  let i = 0;
  const problem = (expected: string) => ({ index: i, expected });
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      const c = text[i];
      if (c === undefined) throw problem('a closing " (the string is not terminated)');
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        i++;
        const next = text[i];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) throw problem('4 hex digits after \\u');
          i += 5;
          continue;
        }
        if (next === undefined || !'"\\/bfnrt'.includes(next))
          throw problem('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
        i++;
        continue;
      }
      if (c < ' ') throw problem('no raw control characters or line breaks inside a string (use \\n)');
      i++;
    }
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === undefined) throw problem('a value, but the input ended');
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw problem('a double-quoted property name');
        string();
        ws();
        if (text[i] !== ':') throw problem('":" after the property name');
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        throw problem('"," or "}"');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        throw problem('"," or "]"');
      }
    }
    if (c === '"') {
      string();
      return;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (!match) throw problem('a number');
      i += match[0].length;
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      let k = 0;
      while (k < word.length && text[i + k] === word[k]) k++;
      if (k === word.length) {
        i += k;
        return;
      }
      if (k > 0) {
        i += k;
        throw problem(`"${word}"`);
      }
    }
    throw problem('a value (object, array, string, number, true, false or null; strings need double quotes)');
  };
  try {
    value();
    ws();
    if (i < text.length) throw problem('the end of the input after the JSON value');
    return undefined;
  } catch (caught) {
    if (typeof caught === 'object' && caught !== null && 'index' in caught) {
      return caught as { index: number; expected: string };
    }
    throw caught;
  }
}
