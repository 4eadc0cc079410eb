/** Placeholder: filled in by the instances work. */
import type { StudioModule } from "../context.js";

export const instancesModule: StudioModule = { name: "instances" };
