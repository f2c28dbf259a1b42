/**
 * The playground page's calls to the stage service: the real shift API (create, status poll,
 * cancel) and the playground's embedded-only endpoints. Every call carries the bearer token.
 */
import type { ShiftStatus } from '@istio-shift/core';

const TOKEN_KEY = 'istio-traffic-shift-playground-token';
/** The embedded mode's development token (README, stage-service/src/config.ts EMBEDDED_DEV_TOKEN). */
export const DEFAULT_TOKEN = 'local-dev-token';

export const token = {
  get: (): string => window.localStorage.getItem(TOKEN_KEY) || DEFAULT_TOKEN,
  set: (value: string) => window.localStorage.setItem(TOKEN_KEY, value),
};

export interface Answer<T> {
  status: number;
  body: T;
}

export async function call<T>(method: string, url: string, body?: unknown): Promise<Answer<T>> {
  const response = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${token.get()}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed as T };
}

export interface LiveVirtualService {
  account: string;
  namespace: string;
  name: string;
  resourceVersion: string;
  spec: { http?: Array<{ name?: string; route?: Array<{ destination: { host: string; subset?: string }; weight?: number }> }> };
}

export interface LoggedPatch {
  seq: number;
  time: string;
  operations: Array<{ op: string; path: string; value?: unknown }>;
  outcome: string;
  resourceVersion?: string;
}

export type CanaryHealth = 'healthy' | 'failing';

export const playgroundApi = {
  virtualServices: () => call<{ virtualServices: LiveVirtualService[] }>('GET', '/playground/virtual-services'),
  patches: (account: string, namespace: string, virtualService: string, after: number) =>
    call<{ patches: LoggedPatch[] }>('GET', `/playground/patches?${new URLSearchParams({ account, namespace, virtualService, after: String(after) })}`),
  setCanaryHealth: (canaryHealth: CanaryHealth) => call<{ canaryHealth: CanaryHealth }>('PUT', '/playground/simulated-metrics', { canaryHealth }),
  canaryHealth: () => call<{ canaryHealth: CanaryHealth }>('GET', '/playground/simulated-metrics'),
  create: (spec: unknown) => call<ShiftStatus>('POST', '/v1/shifts', spec),
  /** statusUrl and cancelUrl are absolute (externalBaseUrl): use their path on this origin. */
  poll: (statusUrl: string) => call<ShiftStatus>('GET', new URL(statusUrl).pathname),
  cancel: (cancelUrl: string) => call<ShiftStatus>('POST', new URL(cancelUrl).pathname, {}),
};
