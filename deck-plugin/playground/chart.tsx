/**
 * The route's live weights over time: one line per destination of the route in the embedded store,
 * sampled on every page poll (a small SVG, no chart library). The SVG carries the latest weights in
 * data attributes, which the browser test waits on.
 */
import React from 'react';
import type { LiveVirtualService } from './api';

export interface RouteWeights {
  labels: string[];
  weights: number[];
}

export interface WeightSample extends RouteWeights {
  /** ms since the run started */
  at: number;
}

/** The weights of the shift's route (http by name or index, as the spec selects it) in the live store. */
export function routeWeights(list: LiveVirtualService[], spec: { account: string; namespace: string; virtualService: string; route: { protocol: string; name?: string; index?: number } }): RouteWeights | undefined {
  const vs = list.find((v) => v.account === spec.account && v.namespace === spec.namespace && v.name === spec.virtualService);
  if (!vs || spec.route.protocol !== 'http') return undefined;
  const routes = vs.spec.http ?? [];
  const route = spec.route.name ? routes.find((r) => r.name === spec.route.name) : routes[spec.route.index ?? 0];
  const entries = route?.route ?? [];
  return {
    labels: entries.map((e) => e.destination.subset ?? e.destination.host),
    weights: entries.map((e) => e.weight ?? (entries.length === 1 ? 100 : 0)),
  };
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const WIDTH = 520;
const HEIGHT = 170;
const PAD = 28;

export function WeightChart({ samples }: { samples: WeightSample[] }) {
  const last = samples[samples.length - 1];
  const span = Math.max(10_000, last?.at ?? 0);
  const x = (at: number) => PAD + ((WIDTH - 2 * PAD) * at) / span;
  const y = (weight: number) => HEIGHT - PAD - ((HEIGHT - 2 * PAD) * weight) / 100;
  const labels = last?.labels ?? [];
  return (
    <div className="pg-chart">
      <h4>Route weights, live from the embedded store</h4>
      <svg width={WIDTH} height={HEIGHT} data-testid="weight-chart" data-samples={samples.length} data-weights={last?.weights.join(',') ?? ''} role="img" aria-label="Route weights over time">
        <line x1={PAD} y1={y(0)} x2={WIDTH - PAD} y2={y(0)} stroke="#999" />
        <line x1={PAD} y1={y(100)} x2={WIDTH - PAD} y2={y(100)} stroke="#ddd" />
        <text x={4} y={y(100) + 4} fontSize="10">100</text>
        <text x={12} y={y(0) + 4} fontSize="10">0</text>
        <text x={WIDTH - PAD} y={HEIGHT - 6} fontSize="10" textAnchor="end">{`${Math.round(span / 1000)}s`}</text>
        {labels.map((label, i) => (
          <polyline
            key={label}
            fill="none"
            stroke={COLORS[i % COLORS.length]}
            strokeWidth={2}
            points={samples.map((s) => `${x(s.at).toFixed(1)},${y(s.weights[i] ?? 0).toFixed(1)}`).join(' ')}
          />
        ))}
      </svg>
      <div className="pg-legend">
        {labels.map((label, i) => (
          <span key={label} style={{ color: COLORS[i % COLORS.length] }}>
            ■ {label} {last?.weights[i]}%{' '}
          </span>
        ))}
      </div>
    </div>
  );
}
