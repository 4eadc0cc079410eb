import { z } from "zod";
import { ProfileSchema } from "./profile.js";

/** The profile's JSON Schema (published as schemas/profile-v1.schema.json for editors and CI). */
export function profileJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://servepilot.dev/schemas/profile-v1.schema.json",
    title: "servepilot profile (version 1)",
    ...(z.toJSONSchema(ProfileSchema, { io: "input" }) as Record<string, unknown>),
  };
}
