import type { Efficiency } from "./efficiency.js";

// Selection of efficiency factors, apart from the zod schema so planning does not load zod at start-up.

export const DEFAULT_EFFICIENCY: Efficiency = {
  id: "default",
  engine: "perf",
  servingEngine: "*",
  architecture: "*",
  modelClass: "*",
  bandwidth: 0.75,
  decodeCompute: 0.5,
  prefillCompute: 0.6,
  link: 0.6,
  stepOverheadMs: 1,
  allReduceLatencyUs: 10,
  moeSlowdown: 1,
  source: "first-order defaults",
};

/** The most specific efficiency entry for an engine on a GPU architecture. */
export function selectEfficiency(
  entries: readonly Efficiency[],
  engine: string,
  architecture: string,
  modelClass: "dense" | "moe" = "dense",
): Efficiency {
  const score = (e: Efficiency) =>
    (e.servingEngine === engine ? 4 : e.servingEngine === "*" ? 0 : -100) +
    (e.modelClass === modelClass ? 2 : e.modelClass === "*" ? 0 : -100) +
    (e.architecture === architecture ? 1 : e.architecture === "*" ? 0 : -100);
  const best = [...entries].sort((a, b) => score(b) - score(a))[0];
  return best && score(best) >= 0 ? best : DEFAULT_EFFICIENCY;
}
