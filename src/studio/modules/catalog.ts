/** Placeholder: filled in by the catalog work. */
import type { StudioModule } from "../context.js";

export const catalogModule: StudioModule = { name: "catalog" };
