/** Placeholder: filled in by the keys work (issue "Studio, part 2"). */
import type { StudioModule } from "../context.js";

export const keysModule: StudioModule = { name: "keys" };
