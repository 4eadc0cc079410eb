/** Writes the published JSON Schemas (schemas/*.json) from their zod sources: `npm run schemas`. */
import { writeFileSync } from "node:fs";
import { profileJsonSchema } from "../src/core/plan/profile-schema-json.js";

const path = new URL("../schemas/profile-v1.schema.json", import.meta.url);
writeFileSync(path, `${JSON.stringify(profileJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
