/**
 * Example VirtualServices for the embedded store, shaped like the Descartes Labs setup this
 * project grew from: subsets of one host, and a three-host split with an ingress rewrite.
 */
import { VirtualServiceObject } from './types';

/**
 * The README's example: route "admin" pinned to release, route "primary" split between the
 * release, baseline and canary subsets of one host at 100/0/0. Tests apply it to real clusters.
 */
export function checkoutVirtualService(namespace: string): VirtualServiceObject {
  const host = `checkout.${namespace}.svc.cluster.local`;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'checkout', namespace, resourceVersion: '0', labels: { app: 'checkout' } },
    spec: {
      hosts: ['checkout'],
      http: [
        { name: 'admin', match: [{ uri: { prefix: '/admin' } }], route: [{ destination: { host, subset: 'release' } }] },
        {
          name: 'primary',
          retries: { attempts: 3, perTryTimeout: '2s' },
          route: ['release', 'baseline', 'canary'].map((subset, i) => ({ destination: { host, subset }, weight: i === 0 ? 100 : 0 })),
        },
      ],
    },
  };
}

export function exampleVirtualServices(): VirtualServiceObject[] {
  return [
    checkoutVirtualService('shop'),
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'payments', namespace: 'payments', resourceVersion: '0' },
      spec: {
        hosts: ['payments.example.com'],
        gateways: ['istio-system/ingress'],
        http: [
          {
            name: 'payments',
            match: [{ uri: { prefix: '/payments/' } }],
            rewrite: { uri: '/' },
            route: ['release', 'baseline', 'canary'].map((stage, i) => ({
              destination: { host: `payments-${stage}.payments.svc.cluster.local`, port: { number: 8000 } },
              weight: i === 0 ? 100 : 0,
            })),
          },
        ],
      },
    },
  ];
}
