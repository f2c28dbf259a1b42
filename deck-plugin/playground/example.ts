/**
 * The stage the playground's editor opens with: the embedded store's shop/checkout route "primary"
 * (stage-service/src/kube/seed.ts), three steps with short pauses, and canary analysis on the
 * simulated metrics source. Short on purpose: the analysis interval is the validator's minimum (2s,
 * ANALYSIS_LIMITS.minIntervalSeconds) and each analysed pause leaves a 10s window, so a run ends in
 * about 20s and a failing canary is stopped at the first look.
 */
const host = 'checkout.shop.svc.cluster.local';

export const PLAYGROUND_PAYLOAD = {
  account: 'local',
  namespace: 'shop',
  virtualService: 'checkout',
  route: { protocol: 'http', name: 'primary' },
  destinations: [
    { host, subset: 'release' },
    { host, subset: 'baseline' },
    { host, subset: 'canary' },
  ],
  steps: [
    { weights: [80, 10, 10], pause: '10s' },
    { weights: [50, 25, 25], pause: '10s' },
    { weights: [0, 0, 100] },
  ],
  analysis: {
    source: 'simulated',
    scopes: { canary: { workload: 'checkout-canary' }, baseline: { workload: 'checkout-baseline' } },
    warmup: '0s',
    interval: '2s',
    metrics: [{ name: 'success-rate', metric: 'success-rate', judge: { type: 'errors', maxRatio: 1, maxIncrease: 0.1 } }],
  },
  onCancel: 'rollback',
};
