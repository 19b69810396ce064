import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench-results/**', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // SQL lives in db/ only. dependency-cruiser stops imports of knex and pg elsewhere; this stops a
    // query built on the connection a use case is handed (deps.db('orders'), trx.raw(...)).
    files: ['domain/**', 'api/**', 'workers/**', 'realtime/**', 'infra/**', 'host/**'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          "CallExpression[callee.type='MemberExpression'][callee.property.name=/^(db|trx)$/]",
          'CallExpression[callee.name=/^(db|trx)$/]',
          'MemberExpression[property.name=/^(raw|select|insert|update|del|delete|from|table|queryBuilder)$/][object.name=/^(db|trx)$/]',
          'MemberExpression[property.name=/^(raw|select|insert|update|del|delete|from|table|queryBuilder)$/][object.property.name=/^(db|trx)$/]',
        ].map((selector) => ({
          selector,
          message: 'Queries belong in db/ (a repository); pass the connection to one.',
        })),
      ],
    },
  },
  {
    files: ['test/**', '**/*.test.ts', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
      'no-console': 'off',
    },
  },
  // Last: turns off every stylistic rule that Prettier owns.
  prettier,
);
