/** Dark / light: the system's preference until the user picks one (kept in localStorage). */
import { useCallback, useEffect, useState } from "react";

export type Theme = "light" | "dark";
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

/** Before the first render: the stored choice, so that the page does not flash the other theme. */
export function applyStoredTheme(): void {
  const theme = stored();
  if (theme) document.documentElement.dataset.theme = theme;
}

export function useTheme(): [Theme, () => void] {
  const [chosen, setChosen] = useState<Theme | null>(stored);
  const [system, setSystem] = useState<Theme>(systemTheme);
  useEffect(() => {
    const query = window.matchMedia?.("(prefers-color-scheme: dark)");
    if (!query) return;
    const update = () => setSystem(query.matches ? "dark" : "light");
    query.addEventListener("change", update);
    return () => query.removeEventListener("change", update);
  }, []);
  const theme = chosen ?? system;
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const toggle = useCallback(() => {
    const next: Theme = theme === "dark" ? "light" : "dark";
    try {
      localStorage.setItem(STORAGE, next);
    } catch {
      // storage disabled: the choice lasts for this page
    }
    setChosen(next);
  }, [theme]);
  return [theme, toggle];
}
