// Package direction (npm run lint): core ← data ← events ← llm ← memory ← services. A package may import only the ones
// to its left; a service never imports another service; nothing imports in a circle. Tests, benchmarks and
// scripts sit outside and may import anything.
const LAYERS = ['core', 'data', 'events', 'llm', 'memory'];

const directionRules = LAYERS.map((layer, i) => ({
  name: `${layer}-direction`,
  comment: `shared/${layer} may import only ${LAYERS.slice(0, i).join(', ') || 'third-party packages'}`,
  severity: 'error',
  from: { path: `^shared/${layer}/src` },
  to: {
    path: `^(shared/(${LAYERS.slice(i + 1).join('|') || 'none'})/src|services/)`,
  },
}));

module.exports = {
  forbidden: [
    ...directionRules,
    {
      name: 'service-to-service',
      comment: 'a service never imports another service: share code through shared/ packages',
      severity: 'error',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/([^/]+)/', pathNot: '^services/$1/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^(shared|services)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
};
