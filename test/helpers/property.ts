// fast-check settings shared by the property tests: a fixed seed by default, so CI is
// reproducible; PROPERTY_SEED=<n> replays a reported failure, PROPERTY_SEED=random explores, and
// PROPERTY_RUNS_SCALE multiplies the run counts (e.g. 10 for a long local run).
import type { Parameters } from 'fast-check';

const seedSetting = process.env.PROPERTY_SEED;
const seed = seedSetting === 'random' ? (Date.now() ^ (Math.random() * 0x100000000)) | 0 : Number(seedSetting ?? 20261129) | 0;
const runsScale = Math.max(0.01, Number(process.env.PROPERTY_RUNS_SCALE) || 1);

export function propertyOptions<T>(numRuns: number): Parameters<T> {
  // On failure fast-check reports the seed, the path and the shrunk counterexample.
  return { seed, numRuns: Math.max(1, Math.round(numRuns * runsScale)), endOnFailure: false };
}
