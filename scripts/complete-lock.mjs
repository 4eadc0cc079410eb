// The npm registry reachable from our build machines lacks some platform packages: builds of
// @biomejs/cli-* (darwin, win32, android, musl) and node-llama-cpp's macOS and Windows binaries.
// `npm install` then leaves them out of package-lock.json, and `npm ci` refuses the lock
// ("Missing: @biomejs/cli-darwin-arm64 from lock file"). This adds a lock entry per missing
// platform package with its os / cpu / libc, so `npm ci` skips them on other platforms and fetches
// them on theirs. Run after every `npm install`: node scripts/complete-lock.mjs
import { readFileSync, writeFileSync } from "node:fs";

const BIOME_PLATFORMS = {
  "cli-android-arm64": { os: ["android"], cpu: ["arm64"] },
  "cli-android-x64": { os: ["android"], cpu: ["x64"] },
  "cli-darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "cli-darwin-x64": { os: ["darwin"], cpu: ["x64"] },
  "cli-linux-arm64": { os: ["linux"], cpu: ["arm64"], libc: ["glibc"] },
  "cli-linux-arm64-musl": { os: ["linux"], cpu: ["arm64"], libc: ["musl"] },
  "cli-linux-x64": { os: ["linux"], cpu: ["x64"], libc: ["glibc"] },
  "cli-linux-x64-musl": { os: ["linux"], cpu: ["x64"], libc: ["musl"] },
  "cli-win32-arm64": { os: ["win32"], cpu: ["arm64"] },
  "cli-win32-x64": { os: ["win32"], cpu: ["x64"] },
};

// os / cpu as in withcatai/node-llama-cpp packages/@node-llama-cpp/<name>/package.json.
const LLAMA_PLATFORMS = {
  "mac-arm64-metal": { os: ["darwin"], cpu: ["arm64", "x64"] },
  "mac-x64": { os: ["darwin"], cpu: ["x64"] },
  "win-arm64": { os: ["win32"], cpu: ["arm64", "x64"] },
  "win-x64": { os: ["win32"], cpu: ["x64"] },
  "win-x64-cuda": { os: ["win32"], cpu: ["x64"] },
  "win-x64-cuda-ext": { os: ["win32"], cpu: ["x64"] },
  "win-x64-vulkan": { os: ["win32"], cpu: ["x64"] },
};

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));

/** Adds the missing lock entries of `parent`'s optional platform packages; returns how many. */
function completePlatforms(parentKey, scope, platforms, entry) {
  const parent = lock.packages[parentKey];
  if (!parent) return 0;
  let added = 0;
  for (const name of Object.keys(parent.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const platform = platforms[name.replace(`${scope}/`, "")];
    if (lock.packages[key] || !platform) continue;
    // Fields in the order npm writes them, so a later `npm install` leaves the entry as it is.
    const { os, cpu, libc } = platform;
    const { dev, license, engines } = entry;
    lock.packages[key] = Object.fromEntries(
      Object.entries({
        version: parent.version,
        cpu,
        dev,
        libc,
        license,
        optional: true,
        os,
        engines,
      }).filter(([, value]) => value !== undefined),
    );
    added++;
  }
  console.log(
    `package-lock.json: added ${added} platform entries for ${parentKey.slice(13)} ${parent.version}`,
  );
  return added;
}

completePlatforms("node_modules/@biomejs/biome", "@biomejs", BIOME_PLATFORMS, {
  dev: true,
  license: "MIT OR Apache-2.0",
  engines: { node: ">=14.21.3" },
});
completePlatforms("node_modules/node-llama-cpp", "@node-llama-cpp", LLAMA_PLATFORMS, {
  license: "MIT",
  engines: { node: ">=20.0.0" },
});

const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
