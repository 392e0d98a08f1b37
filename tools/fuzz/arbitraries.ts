// Adversarial generators for the fuzz properties: deep nesting, huge strings, invalid UTF-8 and
// unpaired surrogates, prototype keys, cycles, getters, Proxies, class instances, Symbols, BigInt.
import fc from 'fast-check';

/** Keys that have meaning to JavaScript objects and parsers. */
export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'then', 'toJSON'];

/** Strings of every kind: ASCII, full Unicode, unpaired surrogates, control characters, prototype keys. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(...PROTOTYPE_KEYS, '\u0000', '\uD800', '\uDFFF', '\u2028', '\u001b[2J', '\r\n', '"}]'),
);

/** Keys biased towards the ones that pollute prototypes. */
export const adversarialKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
);

/** JSON values with adversarial keys and strings, moderately deep. */
export const adversarialJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    anyString,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(adversarialKey, tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** A value nested `depth` times in arrays or objects. */
export const deeplyNested: fc.Arbitrary<unknown> = fc
  .tuple(fc.integer({ min: 1, max: 5_000 }), fc.boolean())
  .map(([depth, asObject]) => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++) value = asObject ? { next: value } : [value];
    return value;
  });

/** JSON text: valid documents, deep ones, huge ones and plain garbage. */
export const jsonText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: adversarialJson.map((value) => JSON.stringify(value) ?? 'null') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean())
      .map(([depth, asObject]) =>
        asObject
          ? `${'{"next":'.repeat(depth)}"leaf"${'}'.repeat(depth)}`
          : `${'['.repeat(depth)}"leaf"${']'.repeat(depth)}`,
      ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300_000 }).map((n) => JSON.stringify({ value: 'x'.repeat(n) })) },
  { weight: 1, arbitrary: anyString },
);

/** Values a careless tool may return: everything JSON cannot express, and hooks that run on serialisation. */
export const hostValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    adversarialJson,
    fc.bigInt(),
    fc.constant(Symbol('s')),
    fc.constant(() => 1),
    fc.date({ noInvalidDate: false }),
    fc.constant(new Map([[1, 2]])),
    fc.constant(new Set([1])),
    fc.constant(new Uint8Array([1, 2, 3])),
    fc.constant(Object.create(null) as unknown),
    fc.constant(
      new (class Instance {
        readonly field = 1;
      })(),
    ),
    fc.constant(new Error('/srv/host/secret/path')),
    tie('value').map((inner) => ({
      get computed() {
        return inner;
      },
    })),
    fc.constant({
      get throws(): unknown {
        throw new Error('getter failed at /srv/host/secret/getter.db');
      },
    }),
    fc.constant({
      toJSON(): unknown {
        throw new Error('toJSON failed at /srv/host/secret/tojson.db');
      },
    }),
    tie('value').map((inner) => ({ toJSON: () => inner })),
    fc.constant(
      new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('trap failed at /srv/host/secret/proxy.db');
          },
        },
      ),
    ),
    tie('value').map((inner) => {
      const cycle: Record<string, unknown> = { inner };
      cycle.self = cycle;
      return cycle;
    }),
    tie('value').map((inner) => ({ [Symbol('key')]: inner, plain: inner })),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(adversarialKey, tie('value'), { maxKeys: 4 }),
    deeplyNested,
  ),
})).value;

/** Deeply nested source text for the preparer, within and around the default size cap. */
export const nestedSource: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(
      ['(', '1', ')'],
      ['[', '', ']'],
      ['{a:', '1', '}'],
      ['!', '1', ''],
      ['-(', '1', ')'],
      ['a=>', '1', ''],
      ['`${', '1', '}`'],
      ['1?', '1', ':1'],
      ['A<', 'B', '>'],
    ),
    fc.integer({ min: 1, max: 6_000 }),
  )
  .map(([[open, middle, close], depth]) =>
    open === 'A<'
      ? `let x: ${open.repeat(depth)}${middle}${close.repeat(depth)} = 1; return 1;`
      : `const x = ${open.repeat(depth)}${middle}${close.repeat(depth)}; return 1;`,
  );

/** Script sources: TypeScript-like text, garbage, nested fences and tags, huge lines, deep nesting. */
export const scriptSource: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: anyString },
  {
    weight: 2,
    arbitrary: fc
      .array(
        fc.constantFrom(
          'const a: number = 1;',
          'return a;',
          'await tools.add({ a: 1, b: 2 });',
          'import("fs")',
          'require("x")',
          'eval("1")',
          'Function("x")',
          '\\u0065val',
          'enum E { A }',
          'interface I { a: string }',
          '// comment',
          '/* open comment',
          '`template ${',
          '"unterminated',
          '<!-- html comment',
          '```ts',
          '\u0000',
          '\uFEFF',
        ),
        { maxLength: 12 },
      )
      .map((lines) => lines.join('\n')),
  },
  { weight: 1, arbitrary: nestedSource },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 40_000 }).map((n) => `return '${'x'.repeat(n)}';`) },
);

/** Assistant messages mixing text, reasoning, tags and fences, nested and unbalanced. */
export const assistantMessage: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: anyString },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          '<tool-calls>',
          '</tool-calls>',
          '<thinking>',
          '</thinking>',
          '```ts tool-calls',
          '```js tool-calls',
          '```',
          '~~~',
          '````',
          '```ts',
          '\n',
          '\r\n',
          'return 1;',
        ),
      },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 50_000 }).map((n) => 'y'.repeat(n)) },
    ),
    { maxLength: 20 },
  )
  .map((parts) => parts.join(''));

/** Raw bytes: valid UTF-8, invalid sequences, BOMs, NULs. */
export const sourceBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  scriptSource.map((text) => new TextEncoder().encode(text)),
  fc
    .tuple(
      fc.uint8Array({ maxLength: 32 }),
      fc.constantFrom([0xef, 0xbb, 0xbf], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xff]),
    )
    .map(([bytes, bad]) => Uint8Array.from([...bad, ...bytes, ...bad])),
);
