/** Retention rules: which archived task goes and which stays, and the rule that says so. */
export * from './glob.js';
export * from './retention.js';
export * from './decide.js';
export * from './projects.js';
