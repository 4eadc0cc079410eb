/** Placeholder: filled in by the benchmarks work (issue "Studio, part 2"). */
import type { StudioModule } from "../context.js";

export const benchmarksModule: StudioModule = { name: "benchmarks" };
