export * from './problems';
export * from './params';
export * from './manifests';
export * from './render';
export * from './diff';
export * from './reference-analysis';
export * from './facts';
export * from './docker-image';
