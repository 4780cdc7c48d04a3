// Lint rules: neostandard (the style of Fastify and its plugins) with TypeScript support.
import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', '.dist-*/**', 'coverage/**', '.tap/**']
  }),
  {
    rules: {
      // `void promise` marks a promise deliberately not awaited (its rejection is handled where it is made).
      'no-void': ['error', { allowAsStatement: true }],
      // A TypeBox schema and its static type share one name (`const Payload = Type.Object(...)`, `type Payload = Static<typeof Payload>`).
      '@typescript-eslint/no-redeclare': 'off',
      'no-redeclare': 'off',
      // A variable that hooks and teardowns read before it is assigned (they may run first, e.g. when setup fails).
      'prefer-const': ['error', { destructuring: 'all', ignoreReadBeforeAssign: true }],
      // Flags `while (!stopped) await ...` loops, whose condition another task changes while they await.
      'no-unmodified-loop-condition': 'off'
    }
  }
]
