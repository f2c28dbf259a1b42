export * from './spec';
export * from './duration';
export * from './destinations';
export * from './validate';
export * from './status';
export * from './routes';
export * from './plan';
export * from './patch';
