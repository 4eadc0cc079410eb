import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** test/fixtures/hardware, with a trailing slash. */
export const HARDWARE_FIXTURES = fileURLToPath(new URL("../../fixtures/hardware/", import.meta.url));

/** A capture under test/fixtures/hardware, e.g. "nvidia/h100-mig-590-load/list.txt". */
export function readFixture(relativePath: string): string {
  return readFileSync(`${HARDWARE_FIXTURES}${relativePath}`, "utf8");
}

/** Absolute path of a fake tool in test/fixtures/hardware/bin. */
export function fakeBin(
  name: "fake-nvidia-smi" | "fake-amd-smi" | "fake-rocm-smi" | "fake-smi-hang",
): string {
  return `${HARDWARE_FIXTURES}bin/${name}`;
}

/** Absolute path of a scenario file for the fake tools. */
export function scenario(name: string): string {
  return `${HARDWARE_FIXTURES}scenarios/${name}.json`;
}
