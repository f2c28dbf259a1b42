/**
 * The checkout shift the service's tests start from (the README's shape: release, baseline and canary
 * on route "primary" of shop/checkout), validated, with the given fields on top. Tests say only what
 * they vary; a spec the validator refuses throws with its problems.
 */
import { NormalizedShiftSpec, validateShiftSpec } from '@istio-shift/core';

export function checkoutSpec(fields: Record<string, unknown> = {}): NormalizedShiftSpec {
  const result = validateShiftSpec({
    account: 'prod',
    namespace: 'shop',
    virtualService: 'checkout',
    route: { protocol: 'http', name: 'primary' },
    destinations: [{ host: 'checkout', subset: 'release' }, { host: 'checkout', subset: 'baseline' }, { host: 'checkout', subset: 'canary' }],
    ...fields,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}
