/**
 * Example VirtualServices for the embedded store, shaped like the Descartes Labs setup this
 * project grew from: subsets of one host, and a three-host split with an ingress rewrite.
 */
import { VirtualServiceObject } from './types';

export function exampleVirtualServices(): VirtualServiceObject[] {
  const host = 'checkout.shop.svc.cluster.local';
  return [
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '0', labels: { app: 'checkout' } },
      spec: {
        hosts: ['checkout'],
        http: [
          {
            name: 'admin',
            match: [{ uri: { prefix: '/admin' } }],
            route: [{ destination: { host, subset: 'release' } }],
          },
          {
            name: 'primary',
            retries: { attempts: 3, perTryTimeout: '2s' },
            route: [
              { destination: { host, subset: 'release' }, weight: 100 },
              { destination: { host, subset: 'baseline' }, weight: 0 },
              { destination: { host, subset: 'canary' }, weight: 0 },
            ],
          },
        ],
      },
    },
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
