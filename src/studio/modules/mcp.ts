/** Placeholder: filled in by the mcp work (issue "Studio, part 2"). */
import type { StudioModule } from "../context.js";

export const mcpModule: StudioModule = { name: "mcp" };
