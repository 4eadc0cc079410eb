/**
 * Dark / light: the system's preference until the user picks one (kept in localStorage). One store for
 * the whole page: the header's toggle and the Settings page read and change the same preference, so
 * they always agree (and another tab's choice arrives through the `storage` event).
 */
import { useCallback, useEffect, useSyncExternalStore } from "react";

export type Theme = "light" | "dark";
/** What the user picked: a theme, or "system" (follow prefers-color-scheme). */
export type ThemePreference = Theme | "system";
const STORAGE = "servepilot.theme";

function stored(): Theme | null {
  try {
    const value = localStorage.getItem(STORAGE);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null;
  }
}

function systemTheme(): Theme {
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

let preference: ThemePreference = typeof window === "undefined" ? "system" : (stored() ?? "system");
const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

let watching = false;
function subscribe(listener: () => void): () => void {
  if (!watching && typeof window !== "undefined") {
    watching = true;
    window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener("change", notify);
    window.addEventListener("storage", (event) => {
      if (event.key !== STORAGE && event.key !== null) return;
      preference = stored() ?? "system";
      notify();
    });
  }
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

const getPreference = () => preference;

/** The theme a preference shows now. */
export function resolveTheme(choice: ThemePreference): Theme {
  return choice === "system" ? systemTheme() : choice;
}

/** Picks the theme (or back to the system's), keeps it, applies it and tells every user of the store. */
export function setThemePreference(next: ThemePreference): void {
  try {
    if (next === "system") localStorage.removeItem(STORAGE);
    else localStorage.setItem(STORAGE, next);
  } catch {
    // storage disabled: the choice lasts for this page
  }
  preference = next;
  document.documentElement.dataset.theme = resolveTheme(next);
  notify();
}

/**
 * Before the first render: the theme the stored choice (or the system) gives, so that the page does not
 * flash the other one; data-theme is always set, and styles.css keys both palettes on it alone.
 */
export function applyStoredTheme(): void {
  document.documentElement.dataset.theme = resolveTheme(stored() ?? "system");
}

/** The user's pick ("system" until one is made) and the setter (Settings). */
export function useThemePreference(): [ThemePreference, (next: ThemePreference) => void] {
  return [useSyncExternalStore(subscribe, getPreference), setThemePreference];
}

/** The theme shown now and a toggle to the other one (the header). */
export function useTheme(): [Theme, () => void] {
  const choice = useSyncExternalStore(subscribe, getPreference);
  const system = useSyncExternalStore(subscribe, systemTheme);
  const theme = choice === "system" ? system : choice;
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const toggle = useCallback(() => setThemePreference(theme === "dark" ? "light" : "dark"), [theme]);
  return [theme, toggle];
}
