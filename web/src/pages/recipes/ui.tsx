/** Small pieces the Recipes, Usage, Models, Logs and Settings pages share (kept out of the shell). */
import { useEffect, useRef, useState } from "react";
import { apiFetch } from "../../api";
import "./ui.css";

/** Field errors ride on ApiError (api.ts); these names stay for the pages that use them. */
export { ApiError as FieldsError, type FieldError, fieldName } from "../../api";

/** Fetches a file from the API (with the key) and hands it to the browser as a download. */
export async function downloadFrom(path: string, fallbackName: string): Promise<string> {
  const response = await apiFetch(path, {}, "*/*");
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const blob = await response.blob();
  saveBlob(blob, name);
  return name;
}

export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * A button that asks before acting: the first press shows "Confirm" and "Cancel" in its place
 * (focus moves to Cancel, Escape cancels), the second runs the action.
 */
export function ConfirmButton({
  label,
  confirmLabel,
  question,
  onConfirm,
  disabled,
}: {
  /** Accessible name of the first button, e.g. "Delete qwen3-8b". */
  label: string;
  confirmLabel: string;
  question: string;
  onConfirm: () => void | Promise<void>;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const cancel = useRef<HTMLButtonElement>(null);
  const first = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) cancel.current?.focus();
    else if (wasAsking.current) first.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  if (!asking) {
    return (
      <button ref={first} type="button" onClick={() => setAsking(true)} disabled={disabled}>
        {label.split(" ")[0]}
        <span className="visually-hidden"> {label.split(" ").slice(1).join(" ")}</span>
      </button>
    );
  }
  return (
    <fieldset
      className="confirm"
      onKeyDown={(event) => {
        if (event.key === "Escape") setAsking(false);
      }}
    >
      <legend className="confirm-question">{question}</legend>
      <button
        type="button"
        className="danger"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {confirmLabel}
      </button>
      <button ref={cancel} type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </fieldset>
  );
}

/** Copies text to the clipboard; says whether it worked. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
