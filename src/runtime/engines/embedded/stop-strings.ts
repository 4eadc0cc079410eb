/**
 * Stop strings over generated text, as llama-server handles them: generation ends at the first
 * complete stop string (which is left out of the output), and while streaming, a tail that could
 * still grow into a stop string is held back until the next token settles it.
 */

/** Where the earliest complete stop string starts at or after `from`; null when there is none. */
export function findStopIndex(text: string, stops: readonly string[], from = 0): number | null {
  let earliest: number | null = null;
  for (const stop of stops) {
    const index = text.indexOf(stop, from);
    if (index !== -1 && (earliest === null || index < earliest)) earliest = index;
  }
  return earliest;
}

/** Length of the longest end of `text` that is the beginning (not the whole) of some stop string. */
export function partialStopLength(text: string, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    for (let length = Math.min(stop.length - 1, text.length); length > longest; length--) {
      if (text.endsWith(stop.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

export interface StopScan {
  /** The text that may be sent now, in full (from the start of the generation). */
  readonly sendable: string;
  /** True when a complete stop string was found: `sendable` is final. */
  readonly stopped: boolean;
}

/**
 * Scans text generated so far, of which the first `sentLength` characters were already sent (and
 * so hold no stop string start — every earlier call held back possible starts).
 */
export function scanForStop(text: string, stops: readonly string[], sentLength: number): StopScan {
  const stopAt = findStopIndex(text, stops, sentLength);
  if (stopAt !== null) return { sendable: text.slice(0, stopAt), stopped: true };
  return { sendable: text.slice(0, text.length - partialStopLength(text, stops)), stopped: false };
}
