import { ServepilotError } from "../../core/errors.js";
import { locateJsonError } from "./json-error-position.js";
import type { SafetensorsTensorInfo } from "./types.js";

/**
 * The safetensors layout (https://huggingface.co/docs/safetensors/index#format): an 8-byte
 * little-endian u64 N, N bytes of JSON header { name: { dtype, shape, data_offsets: [begin, end] },
 * "__metadata__"?: {...} }, then the tensor data; offsets are relative to the end of the header.
 */

/** The safetensors crate refuses headers above this size (MAX_HEADER_SIZE in safetensors/src/tensor.rs). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

function invalid(label: string, problem: string, details: Record<string, unknown> = {}): ServepilotError {
  return new ServepilotError("INVALID_MODEL_CONFIG", `${label}: ${problem}`, {
    hint: "The weight file is damaged or incomplete: download it again.",
    details: { file: label, ...details },
  });
}

/** Reads the header length from the first 8 bytes and checks it against the file size. */
export function decodeHeaderLength(prefix: Uint8Array, fileSize: number, label: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw invalid(
      label,
      `${fileSize} bytes is too short for a safetensors file (8-byte header length missing): truncated?`,
      {
        fileSize,
      },
    );
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length < 2n || length > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw invalid(
      label,
      `declares a ${length}-byte JSON header; expected 2 to ${SAFETENSORS_MAX_HEADER_BYTES} bytes`,
      {
        headerLength: length.toString(),
      },
    );
  }
  const headerLength = Number(length);
  if (8 + headerLength > fileSize) {
    throw invalid(
      label,
      `declares a ${headerLength}-byte JSON header but only ${fileSize - 8} bytes follow the length prefix: truncated?`,
      { headerLength, fileSize },
    );
  }
  return headerLength;
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function parseTensorEntry(
  name: string,
  entry: unknown,
  dataBytes: number,
  label: string,
): SafetensorsTensorInfo {
  const where = `tensor ${JSON.stringify(name)}`;
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw invalid(label, `${where} must be an object with dtype, shape and data_offsets`, { tensor: name });
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== "string" || dtype.length === 0) {
    throw invalid(label, `${where} has no dtype string`, { tensor: name });
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
    throw invalid(label, `${where} shape must be a list of non-negative integers`, { tensor: name });
  }
  const [begin, end] = Array.isArray(offsets) && offsets.length === 2 ? offsets : [];
  if (!isNonNegativeInt(begin) || !isNonNegativeInt(end) || begin > end) {
    throw invalid(label, `${where} data_offsets must be [begin, end] with 0 <= begin <= end`, {
      tensor: name,
    });
  }
  if (end > dataBytes) {
    throw invalid(
      label,
      `${where} data ends at byte ${end} but the file holds only ${dataBytes} bytes of tensor data: truncated?`,
      { tensor: name, dataEnd: end, dataBytes },
    );
  }
  return { name, dtype, shape: [...shape] };
}

/**
 * Parses and validates the JSON header. `dataBytes` is the file size minus 8 minus the header
 * length: every tensor's data must lie inside it.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataBytes: number,
  label: string,
): SafetensorsTensorInfo[] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch (error) {
    throw invalid(label, "the JSON header is not valid UTF-8", { cause: String(error) });
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    const position = locateJsonError(text);
    const where = position ? ` at offset ${position.offset} of ${text.length}` : "";
    throw invalid(label, `the JSON header is not valid JSON${where}: ${(error as Error).message}`, {
      position,
    });
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw invalid(label, "the JSON header must be an object of tensors");
  }
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    tensors.push(parseTensorEntry(name, entry, dataBytes, label));
  }
  return tensors;
}

/** Parses a whole in-memory safetensors file (header only; used by tests and small files). */
export function parseSafetensorsBuffer(bytes: Uint8Array, label: string): SafetensorsTensorInfo[] {
  const headerLength = decodeHeaderLength(bytes.subarray(0, 8), bytes.byteLength, label);
  return parseSafetensorsHeader(
    bytes.subarray(8, 8 + headerLength),
    bytes.byteLength - 8 - headerLength,
    label,
  );
}
