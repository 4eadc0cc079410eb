/** The studio's public entry (the CLI's `studio` command and library callers start it here). */

export type { StudioOptions } from "./options.js";
export { DEFAULT_STUDIO_HOST, DEFAULT_STUDIO_PORT, isLoopbackHost } from "./options.js";
export type { Studio } from "./server.js";
export { STUDIO_MODULES, startStudio } from "./server.js";
