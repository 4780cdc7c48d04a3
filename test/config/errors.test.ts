import t from 'tap'
import { Type } from 'typebox'
import { JsonPositions, positionAt, syntaxError } from '../../src/config/position.js'
import { AccessPolicyOptions } from '../../src/core/access-policy.js'
import { validateOptions } from '../../src/core/plugins/loader.js'
import { compile } from '../../src/lib/validation.js'

t.test('positions: offsets become line and column; keys are found by their JSON path', async (t) => {
  const text = '{\n  "a": {\n    "b": [1, { "c": "x" }],\n    "d.e": true\n  }\n}\n'
  t.same(positionAt(text, 0), { line: 1, column: 1 })
  t.same(positionAt(text, text.indexOf('"b"')), { line: 3, column: 5 })
  const p = new JsonPositions(text)
  t.same(p.find('a.b'), { position: { line: 3, column: 5 }, field: 'a.b', exact: true })
  t.same(p.find('a.b.1.c')?.position, { line: 3, column: 16 })
  t.same(p.find('a.b.0')?.position, { line: 3, column: 11 }, 'an element: its value')
  t.same(p.find('a.missing.deeper'), { position: { line: 2, column: 3 }, field: 'a', exact: false }, 'the nearest written ancestor')
  t.equal(p.find('nothing'), undefined, 'nothing written above it but the root')
  t.ok(p.has('a.b.1.c'))
  t.notOk(p.has('a.z'))
  const strings = new JsonPositions('{"k\\"ey": {"x": "a}b\\\\"}, "n": -1.5e3, "z": null}')
  t.same(strings.find('n')?.position, { line: 1, column: 27 }, 'escaped quotes and braces inside strings are skipped')
})

t.test('a JSON syntax error: its line and column, the reason without the character position', async (t) => {
  const text = '{\n  "port": 1,\n}'
  let err: Error | undefined
  try { JSON.parse(text) } catch (e) { err = e as Error }
  const { position, reason } = syntaxError(text, err!)
  t.same(position, { line: 3, column: 1 })
  t.notMatch(reason, /position/)
  t.same(syntaxError('{', new SyntaxError('Unexpected end of JSON input')).position, { line: 1, column: 2 }, 'the end of the text')
})

t.test('a union told apart by a key is explained by that key, once', async (t) => {
  const access = compile(Type.Object({ access: AccessPolicyOptions }), { maxErrors: 256 })
  t.same(access.problems({ access: { mode: 'bogus' } }), [{ field: 'access.mode', message: 'must be one of: tenant, claim, roles, hook' }],
    'no branch has this mode: the mode, not every branch\'s missing keys')
  t.same(access.problems({ access: { mode: 'claim' } }), [{ field: 'access.claim', message: 'is required' }], 'the branch the mode picks')
  t.same(access.problems({ access: { mode: 'claim', claim: 3 } }), [{ field: 'access.claim', message: 'must be string' }])
  t.same(access.problems({ access: { mode: 'tenant', extra: 1 } }), [{ field: 'access.extra', message: 'is not an allowed property' }])
  t.same(access.problems({ access: {} }), [{ field: 'access.mode', message: 'is required' }], 'the key every branch requires, said once')
  t.same(access.problems({ access: { mode: 'roles', roles: ['a'] } }), [])
  t.throws(() => validateOptions('sessions', Type.Object({ access: AccessPolicyOptions }), { access: { mode: 'nope' } }),
    { message: 'Invalid configuration: plugins.sessions.options.access.mode: must be one of: tenant, claim, roles, hook' })
  const payload = compile(Type.Object({ access: AccessPolicyOptions }))
  t.same(payload.problems({ access: { mode: 'bogus' } }), [{ field: 'access.mode', message: 'must be one of: tenant, claim, roles, hook' }], 'with TypeBox\'s 8 errors too')
  const scalar = compile(Type.Object({ v: Type.Union([Type.String(), Type.Number()]) }))
  t.same(scalar.problems({ v: true }), [{ field: 'v', message: 'must be string or number' }], 'unions of scalars as before')
})
