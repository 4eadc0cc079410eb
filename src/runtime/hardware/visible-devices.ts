/**
 * Which physical GPUs an engine will see, and in which order, given *_VISIBLE_DEVICES.
 *
 * CUDA (CUDA Programming Guide, "CUDA Environment Variables", CUDA_VISIBLE_DEVICES):
 *  - unset: every GPU, in nvidia-smi order; set but empty: none;
 *  - a comma-separated list of indices or UUIDs ("GPU-8932f937…", a unique prefix is enough, or a
 *    "MIG-…" device), enumerated in the order given;
 *  - at the first invalid entry (e.g. -1) enumeration stops: "0,2,-1,1" makes 0 and 2 visible.
 * ROCm (ROCm docs, "ROCm environment variables", GPU isolation): ROCR_VISIBLE_DEVICES (indices or
 * UUIDs) is applied first; HIP_VISIBLE_DEVICES, or CUDA_VISIBLE_DEVICES when it is unset, then
 * indexes the devices ROCR left visible (pytorch torch/cuda/__init__.py `_parse_visible_devices`
 * models the same order).
 */

export interface VisibilityCandidate {
  /** Physical index. */
  index: number;
  /** Identifiers a UUID entry may name (lower-cased prefix match), e.g. "gpu-0a1b…". */
  ids: readonly string[];
  /** MIG device UUIDs on this GPU (NVIDIA), for "MIG-…" entries. */
  migIds?: readonly string[];
}

export interface VisibleDevice {
  /** Physical index. */
  index: number;
  /** Index the engine sees. */
  visibleIndex: number;
  /**
   * The MIG device the entry named ("MIG-…"), when it selected a MIG slice rather than a GPU. Each
   * MIG entry is its own CUDA device, so one GPU can appear several times with different slices.
   */
  migUuid: string | null;
}

export interface VisibilityResult {
  /** Null when no variable restricts visibility (all devices, physical order). */
  variable: string | null;
  devices: VisibleDevice[];
  warnings: string[];
}

type EntryMatch = { ok: true; position: number; migUuid: string | null } | { ok: false; reason: string };

function matchEntry(entry: string, pool: readonly VisibilityCandidate[]): EntryMatch {
  if (/^-?\d+$/.test(entry)) {
    const position = Number(entry);
    if (position < 0 || position >= pool.length) {
      return {
        ok: false,
        reason: position < 0 ? "is negative" : `is past the last device (${pool.length} seen)`,
      };
    }
    return { ok: true, position, migUuid: null };
  }
  const needle = entry.toLowerCase();
  if (needle.startsWith("mig-")) {
    const hits = pool.flatMap((device, position) =>
      (device.migIds ?? [])
        .filter((id) => id.toLowerCase().startsWith(needle))
        .map((id) => ({ position, id })),
    );
    const only = hits.length === 1 ? hits[0] : undefined;
    if (only !== undefined) return { ok: true, position: only.position, migUuid: only.id };
    return { ok: false, reason: hits.length === 0 ? "matches no MIG device" : "matches several MIG devices" };
  }
  if (needle.length < 5) return { ok: false, reason: "is neither an index nor a UUID" };
  const hits = pool.flatMap((device, position) =>
    device.ids.some((id) => id.toLowerCase().startsWith(needle)) ? [position] : [],
  );
  const only = hits.length === 1 ? hits[0] : undefined;
  if (only !== undefined) return { ok: true, position: only, migUuid: null };
  return { ok: false, reason: hits.length === 0 ? "matches no GPU UUID" : "matches several GPUs" };
}

interface Filtered {
  picked: Array<{ device: VisibilityCandidate; migUuid: string | null }>;
  warnings: string[];
}

/** Applies one variable to `pool` with CUDA's rules (stop at the first invalid or repeated entry). */
function applyVariable(name: string, value: string, pool: readonly VisibilityCandidate[]): Filtered {
  if (value.trim() === "") {
    return { picked: [], warnings: [`${name} is set but empty, so no GPU is visible to the engine`] };
  }
  const entries = value.split(",").map((entry) => entry.trim());
  const picked: Filtered["picked"] = [];
  const taken = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    const match = matchEntry(entry, pool);
    const key = match.ok ? (match.migUuid ?? `gpu:${match.position}`) : "";
    if (!match.ok || taken.has(key)) {
      const reason = match.ok ? "repeats an earlier entry" : match.reason;
      const ignored = entries.slice(i + 1);
      const rest = ignored.length > 0 ? ` and the entries after it (${ignored.join(",")}) are` : " is";
      const warning =
        entry === "-1" && i === 0
          ? `${name}="${value}" hides every GPU`
          : `${name}="${value}": entry "${entry}" ${reason}, so it${rest} ignored, as the runtime does`;
      return { picked, warnings: [warning] };
    }
    const device = pool[match.position];
    if (device === undefined) break;
    taken.add(key);
    picked.push({ device, migUuid: match.migUuid });
  }
  return { picked, warnings: [] };
}

function toResult(variable: string | null, filtered: Filtered): VisibilityResult {
  return {
    variable,
    devices: filtered.picked.map(({ device, migUuid }, visibleIndex) => ({
      index: device.index,
      visibleIndex,
      migUuid,
    })),
    warnings: filtered.warnings,
  };
}

function all(devices: readonly VisibilityCandidate[]): Filtered {
  return { picked: devices.map((device) => ({ device, migUuid: null })), warnings: [] };
}

/** NVIDIA: CUDA_VISIBLE_DEVICES over the devices in nvidia-smi order. */
export function resolveNvidiaVisibility(
  devices: readonly VisibilityCandidate[],
  env: NodeJS.ProcessEnv,
): VisibilityResult {
  const value = env.CUDA_VISIBLE_DEVICES;
  if (value === undefined) return toResult(null, all(devices));
  return toResult("CUDA_VISIBLE_DEVICES", applyVariable("CUDA_VISIBLE_DEVICES", value, devices));
}

/** AMD: ROCR_VISIBLE_DEVICES first, then HIP_VISIBLE_DEVICES (or CUDA_VISIBLE_DEVICES) on the rest. */
export function resolveAmdVisibility(
  devices: readonly VisibilityCandidate[],
  env: NodeJS.ProcessEnv,
): VisibilityResult {
  const warnings: string[] = [];
  const names: string[] = [];
  let pool: Filtered = all(devices);
  const rocr = env.ROCR_VISIBLE_DEVICES;
  if (rocr !== undefined) {
    pool = applyVariable("ROCR_VISIBLE_DEVICES", rocr, devices);
    warnings.push(...pool.warnings);
    names.push("ROCR_VISIBLE_DEVICES");
  }
  const hipName =
    env.HIP_VISIBLE_DEVICES !== undefined
      ? "HIP_VISIBLE_DEVICES"
      : env.CUDA_VISIBLE_DEVICES !== undefined
        ? "CUDA_VISIBLE_DEVICES"
        : null;
  if (hipName !== null) {
    if (hipName === "HIP_VISIBLE_DEVICES" && env.CUDA_VISIBLE_DEVICES !== undefined) {
      warnings.push(
        "HIP_VISIBLE_DEVICES and CUDA_VISIBLE_DEVICES are both set; HIP uses HIP_VISIBLE_DEVICES",
      );
    }
    const remaining = pool.picked.map((item) => item.device);
    pool = applyVariable(hipName, env[hipName] ?? "", remaining);
    warnings.push(...pool.warnings);
    names.push(hipName);
  }
  const result = toResult(names.length === 0 ? null : names.join(" + "), pool);
  return { ...result, warnings };
}
