/**
 * Images in chats: the ones a message carries (fetched with the key, shown from a blob URL) and the
 * composer's attachments (picked or pasted, checked here against the studio's limits before sending:
 * PNG / JPEG / WebP / GIF, at most 4 per message, 5 MiB each; docs/studio-chats.md).
 */
import { useEffect, useState } from "react";
import { apiFetch } from "../../api";
import { formatBytes } from "../../format";
import type { ChatImage } from "./types";

export const ACCEPTED_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
export const MAX_IMAGES = 4;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** An image waiting in the composer: its bytes in base64 (for the API) and a preview URL. */
export interface Attachment {
  key: string;
  name: string;
  mediaType: string;
  bytes: number;
  data: string;
  previewUrl: string;
}

function shortType(mediaType: string): string {
  return mediaType.replace(/^image\//, "").toUpperCase();
}

function readBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsDataURL(file);
  });
}

/**
 * Files → attachments, within the limits given the ones already attached; what is refused comes back
 * as one sentence per file.
 */
export async function toAttachments(
  files: File[],
  already: number,
): Promise<{ added: Attachment[]; refused: string[] }> {
  const added: Attachment[] = [];
  const refused: string[] = [];
  for (const file of files) {
    const name = file.name || "pasted image";
    if (!ACCEPTED_TYPES.includes(file.type)) {
      refused.push(`${name}: ${file.type || "unknown type"} is not PNG, JPEG, WebP or GIF`);
    } else if (file.size > MAX_IMAGE_BYTES) {
      refused.push(`${name}: ${formatBytes(file.size)} is over the ${formatBytes(MAX_IMAGE_BYTES)} limit`);
    } else if (already + added.length >= MAX_IMAGES) {
      refused.push(`${name}: at most ${MAX_IMAGES} images per message`);
    } else {
      added.push({
        key: `${Date.now()}-${Math.random().toString(36).slice(2)}`,
        name,
        mediaType: file.type,
        bytes: file.size,
        data: await readBase64(file),
        previewUrl: URL.createObjectURL(file),
      });
    }
  }
  return { added, refused };
}

/** The composer's attachments with a remove button each. */
export function AttachmentList({
  attachments,
  onRemove,
}: {
  attachments: Attachment[];
  onRemove: (key: string) => void;
}) {
  if (attachments.length === 0) return null;
  return (
    <ul className="attachments" aria-label="Attached images">
      {attachments.map((a) => (
        <li key={a.key} className="attachment">
          <img src={a.previewUrl} alt={`${a.name} (${shortType(a.mediaType)}, ${formatBytes(a.bytes)})`} />
          <span className="attachment-name">{a.name}</span>
          <button
            type="button"
            className="link"
            onClick={() => onRemove(a.key)}
            aria-label={`Remove ${a.name}`}
          >
            Remove
          </button>
        </li>
      ))}
    </ul>
  );
}

/** One stored image of a message: fetched with the key (an <img src> could not send it). */
function StoredImage({ sessionId, image, index }: { sessionId: string; image: ChatImage; index: number }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let objectUrl: string | null = null;
    let cancelled = false;
    apiFetch(
      `/api/chats/${encodeURIComponent(sessionId)}/images/${encodeURIComponent(image.id)}`,
      {},
      image.mediaType,
    )
      .then((response) => response.blob())
      .then((blob) => {
        if (cancelled) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      })
      .catch(() => {
        if (!cancelled) setFailed(true);
      });
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [sessionId, image.id, image.mediaType]);
  const label = `Image ${index + 1} (${shortType(image.mediaType)}, ${formatBytes(image.bytes)})`;
  if (failed) return <span className="image-missing muted">{label}: could not be loaded</span>;
  if (!url) return <span className="image-loading muted">{label}…</span>;
  return (
    <a href={url} target="_blank" rel="noreferrer" title="Open full size">
      <img src={url} alt={label} />
    </a>
  );
}

export function MessageImages({ sessionId, images }: { sessionId: string; images: ChatImage[] | undefined }) {
  if (!images || images.length === 0) return null;
  return (
    <div className="message-images">
      {images.map((image, index) => (
        <StoredImage key={image.id} sessionId={sessionId} image={image} index={index} />
      ))}
    </div>
  );
}
