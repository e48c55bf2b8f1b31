// selectloop: everything, from one import.
export * from './select/index.js';
export * from './selectors/index.js';
export * from './loop/index.js';
export * from './transports/index.js';
