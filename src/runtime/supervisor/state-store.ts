/**
 * Instance records on disk: one JSON file per instance under `<dataDir>/instances/`, written
 * atomically (temporary file + rename), and a lock file that serialises the launches that allocate
 * GPUs and ports (a lock left by a dead process is taken over).
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import { INSTANCE_NAME, type InstanceRecord, InstanceRecordSchema } from "./instance.js";
import { isPidAlive } from "./process-identity.js";

export function instancesDir(dataDir: string): string {
  return join(dataDir, "instances");
}

export function logsDir(dataDir: string): string {
  return join(dataDir, "logs");
}

/** The log file of an instance: derived from its name, never from user paths. */
export function instanceLogFile(dataDir: string, name: string): string {
  return join(logsDir(dataDir), `${name}.log`);
}

function recordFile(dataDir: string, name: string): string {
  if (!INSTANCE_NAME.test(name)) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `instance name "${name}" is not valid: expected lowercase letters, digits, ".", "_" or "-" (at most 63, starting with a letter or digit)`,
    );
  }
  return join(instancesDir(dataDir), `${name}.json`);
}

export async function writeInstance(dataDir: string, record: InstanceRecord): Promise<void> {
  const file = recordFile(dataDir, record.name);
  await mkdir(instancesDir(dataDir), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
}

/** The record of `name`, or null when there is none. A corrupt file is an error naming it. */
export async function readInstance(dataDir: string, name: string): Promise<InstanceRecord | null> {
  const file = recordFile(dataDir, name);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  return parseRecord(file, text);
}

/** The record of `name`; an unknown name is a bad-input error listing the instances there are. */
export async function requireInstance(dataDir: string, name: string): Promise<InstanceRecord> {
  const record = await readInstance(dataDir, name);
  if (record !== null) return record;
  const names = (await listInstances(dataDir)).map((r) => r.name);
  throw new ServepilotError("INVALID_ARGUMENT", `no instance named "${name}"`, {
    hint:
      names.length > 0 ? `instances: ${names.join(", ")}` : "no instances: start one with servepilot launch",
  });
}

function parseRecord(file: string, text: string): InstanceRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ServepilotError("INVALID_DATA_FILE", `${file}: not valid JSON (${(error as Error).message})`, {
      hint: "remove the file if the instance no longer runs",
    });
  }
  const parsed = InstanceRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join(".") || "(root)";
    throw new ServepilotError(
      "INVALID_DATA_FILE",
      `${file}: field ${field}: ${issue?.message ?? "invalid"} (not an instance record servepilot wrote)`,
      { hint: "remove the file if the instance no longer runs" },
    );
  }
  return parsed.data;
}

/** Every instance record, by name. */
export async function listInstances(dataDir: string): Promise<InstanceRecord[]> {
  let names: string[];
  try {
    names = await readdir(instancesDir(dataDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const records = await Promise.all(
    names
      .filter((name) => name.endsWith(".json"))
      .sort()
      .map(async (name) => {
        const file = join(instancesDir(dataDir), name);
        const text = await readFile(file, "utf8").catch(() => null);
        return text === null ? null : parseRecord(file, text);
      }),
  );
  return records.filter((record): record is InstanceRecord => record !== null);
}

export async function removeInstance(dataDir: string, name: string): Promise<void> {
  await rm(recordFile(dataDir, name), { force: true });
}

/** Reads, changes and writes one record (the caller holds the lock when others may write it). */
export async function updateInstance(
  dataDir: string,
  name: string,
  change: (record: InstanceRecord) => InstanceRecord,
): Promise<InstanceRecord | null> {
  const record = await readInstance(dataDir, name);
  if (record === null) return null;
  const next = change(record);
  await writeInstance(dataDir, next);
  return next;
}

const LOCK_WAIT_MS = 30_000;

/**
 * Runs `work` holding `<dataDir>/instances/.lock` (O_EXCL create). A lock whose owner pid is gone is
 * removed; a live owner is waited for, up to 30 s.
 */
export async function withInstancesLock<T>(dataDir: string, work: () => Promise<T>): Promise<T> {
  const dir = instancesDir(dataDir);
  await mkdir(dir, { recursive: true });
  const lock = join(dir, ".lock");
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await open(lock, "wx", 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number((await readFile(lock, "utf8").catch(() => "")).trim());
      if (!ownerAlive(owner)) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new ServepilotError(
          "LAUNCH_FAILED",
          `${lock} is held by process ${owner} (another launch or stop in progress) for more than ${LOCK_WAIT_MS / 1000} s`,
          { hint: `wait for it to finish, or remove ${lock} if process ${owner} is not servepilot` },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

function ownerAlive(pid: number): boolean {
  return pid === process.pid || isPidAlive(pid);
}
