/**
 * The watchdog's failure budget: an instance that keeps dying is restarted at most until it has failed
 * `maxFailures` times within `windowMs`; then the retries stop and the studio says why. Pure (the
 * clock is an argument), so the 10-minute window is tested without waiting.
 */

export interface FailureBudget {
  maxFailures: number;
  windowMs: number;
}

/** 3 failures in 10 minutes end the restarts. */
export const DEFAULT_FAILURE_BUDGET: FailureBudget = { maxFailures: 3, windowMs: 10 * 60_000 };

export interface BudgetVerdict {
  /** Failures inside the window (the newest included). */
  recent: number;
  /** True when no more restarts are allowed. */
  exhausted: boolean;
  /** Why, in words, when exhausted. */
  reason: string | null;
}

/** Judges the failure times (ms since the epoch) against the budget at `now`. */
export function judgeFailures(
  failureTimes: readonly number[],
  now: number,
  budget: FailureBudget,
): BudgetVerdict {
  const since = now - budget.windowMs;
  const recent = failureTimes.filter((t) => t > since && t <= now).length;
  const exhausted = recent >= budget.maxFailures;
  return {
    recent,
    exhausted,
    reason: exhausted
      ? `it failed ${recent} times in ${formatWindow(budget.windowMs)} (the budget is ${budget.maxFailures}): the watchdog stopped restarting it`
      : null,
  };
}

export function formatWindow(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? "" : "s"}`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
