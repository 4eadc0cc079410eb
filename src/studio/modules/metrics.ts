/** Placeholder: filled in by the metrics work. */
import type { StudioModule } from "../context.js";

export const metricsModule: StudioModule = { name: "metrics" };
