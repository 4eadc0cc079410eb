// Runs every benchmark in bench/ (build first: npm run build).
await import("./cold-start.mjs");
await import("./fit-catalog.mjs");
