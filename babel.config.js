// Jest transforms with Babel (fast); `tsc -b` type-checks separately in `npm run typecheck`.
module.exports = {
  presets: [
    ['@babel/preset-env', { targets: { node: 'current' } }],
    ['@babel/preset-react', { runtime: 'classic' }],
    '@babel/preset-typescript',
  ],
};
