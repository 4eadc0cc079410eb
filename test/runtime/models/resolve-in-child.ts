/**
 * Runs resolveModel in a separate process and prints the outcome as JSON. Used to test file
 * permissions as an unprivileged user when the test suite itself runs as root (root reads anything).
 */
import { isServepilotError } from "../../../src/core/errors.js";
import { resolveModel } from "../../../src/runtime/models/index.js";

const ref = process.argv[2] ?? "";
try {
  const model = await resolveModel(ref, { env: {}, offline: true, homeDir: "/nonexistent" });
  process.stdout.write(JSON.stringify({ ok: true, id: model.id }));
} catch (error) {
  const code = isServepilotError(error) ? error.code : "UNEXPECTED";
  process.stdout.write(JSON.stringify({ ok: false, code, message: (error as Error).message }));
}
