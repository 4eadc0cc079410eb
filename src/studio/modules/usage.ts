/** Placeholder: filled in by the usage work (issue "Studio, part 2"). */
import type { StudioModule } from "../context.js";

export const usageModule: StudioModule = { name: "usage" };
