/** Placeholder: filled in by the gateway work (issue "Studio, part 2"). */
import type { StudioModule } from "../context.js";

export const gatewayModule: StudioModule = { name: "gateway" };
