/** Milliseconds from a clock that never goes back (performance.now), injectable for tests. */
export type MonotonicClock = () => number;

export const monotonicNow: MonotonicClock = () => performance.now();
