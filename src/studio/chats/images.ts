/**
 * Images attached to chat messages: the formats accepted, their limits, and the check that the bytes
 * are what the media type says (by their signature), so that an engine never gets a file it cannot
 * decode under a wrong name. Sent to the model as OpenAI `image_url` parts with a data: URL, the form
 * vLLM, SGLang and llama-server accept for vision-language models.
 */
import { z } from "zod";
import { ServepilotError } from "../../core/errors.js";
import { GATEWAY_BODY_LIMIT } from "../gateway/proxy.js";

export const IMAGE_MEDIA_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"] as const;
export type ImageMediaType = (typeof IMAGE_MEDIA_TYPES)[number];

/** At most this many images per message. */
export const MAX_IMAGES_PER_MESSAGE = 4;
/** At most this many bytes per image (decoded). */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** Body limit of the routes that take images: every image at its largest, in base64, plus the text. */
export const IMAGE_BODY_LIMIT =
  Math.ceil((MAX_IMAGES_PER_MESSAGE * MAX_IMAGE_BYTES * 4) / 3) + 2 * 1024 * 1024;

/**
 * The most image bytes (as data: URLs) one chat request to the gateway carries: its body limit less
 * room for the text of the history. A chat whose images together exceed it sends the newest ones and
 * says where older ones were left out; one message's images (at most ~26.7 MiB) always fit.
 */
export const IMAGE_REQUEST_BUDGET = GATEWAY_BODY_LIMIT - 4 * 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const ImageInput = z
  .object({
    mediaType: z.enum(IMAGE_MEDIA_TYPES).describe("the image's media type"),
    data: z
      .string()
      .min(4)
      .max(Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 4)
      .regex(BASE64, "base64 (A-Z, a-z, 0-9, + and /, = padding), without a data: prefix")
      .describe(`the image's bytes in base64, at most ${MAX_IMAGE_BYTES / 1024 / 1024} MiB decoded`),
  })
  .strict();
export type ImageInput = z.infer<typeof ImageInput>;

export const ImagesField = z
  .array(ImageInput)
  .max(MAX_IMAGES_PER_MESSAGE)
  .optional()
  .describe(`images for a vision-language model (user messages; at most ${MAX_IMAGES_PER_MESSAGE})`);

export interface DecodedImage {
  mediaType: ImageMediaType;
  data: Buffer;
}

function startsWith(bytes: Buffer, prefix: number[], at = 0): boolean {
  return prefix.every((b, i) => bytes[at + i] === b);
}

/** The media type the bytes' signature says, or null when none of the accepted formats. */
export function sniffImageType(bytes: Buffer): ImageMediaType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return "image/gif";
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) {
    return "image/webp";
  }
  return null;
}

/**
 * Decodes validated image inputs; INVALID_ARGUMENT naming `<field>.<n>` when the bytes are too large
 * or are not the image the media type says.
 */
export function decodeImages(images: ImageInput[] | undefined, field: string): DecodedImage[] {
  const decoded: DecodedImage[] = [];
  for (const [index, image] of (images ?? []).entries()) {
    const data = Buffer.from(image.data, "base64");
    const at = `${field}.${index}`;
    const fail = (message: string) =>
      new ServepilotError("INVALID_ARGUMENT", `${at}: ${message}`, {
        details: { fields: [{ field: at, message }] },
      });
    if (data.length > MAX_IMAGE_BYTES) {
      throw fail(`the image has ${data.length} bytes; at most ${MAX_IMAGE_BYTES} are accepted`);
    }
    const sniffed = sniffImageType(data);
    if (sniffed === null) {
      throw fail(`the data is not a PNG, JPEG, WebP or GIF image (its first bytes match none of them)`);
    }
    if (sniffed !== image.mediaType) {
      throw fail(`the data is ${sniffed}, not ${image.mediaType} as mediaType says`);
    }
    decoded.push({ mediaType: sniffed, data });
  }
  return decoded;
}

function dataUrlPrefix(image: DecodedImage): string {
  return `data:${image.mediaType};base64,`;
}

/** The length of an image's data: URL, without building it. */
export function imageDataUrlLength(image: DecodedImage): number {
  return dataUrlPrefix(image).length + Math.ceil(image.data.length / 3) * 4;
}

/** An image as the data: URL of an OpenAI `image_url` part. */
export function imageDataUrl(image: DecodedImage): string {
  return `${dataUrlPrefix(image)}${image.data.toString("base64")}`;
}
