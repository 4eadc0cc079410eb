/** The shell: header with the navigation, theme toggle and API-key prompt; pages load lazily. */
import { lazy, Suspense, useEffect, useState } from "react";
import { Link, Route, Switch, useLocation } from "wouter";
import { onKeyRequired } from "./api";
import { KeyPrompt } from "./components/KeyPrompt";
import { PageBoundary } from "./components/PageBoundary";
import { useTheme } from "./theme";

const Dashboard = lazy(() => import("./pages/Dashboard"));
const Planner = lazy(() => import("./pages/Planner"));
const Recipes = lazy(() => import("./pages/Recipes"));
const Chat = lazy(() => import("./pages/Chat"));
const Usage = lazy(() => import("./pages/Usage"));
const Models = lazy(() => import("./pages/Models"));
const Logs = lazy(() => import("./pages/Logs"));
const Settings = lazy(() => import("./pages/Settings"));
const Placeholder = lazy(() => import("./pages/Placeholder"));

/** Pages below the planner, by path (each may nest its own routes: /chat/:id …). */
const PAGES = {
  "/recipes": Recipes,
  "/chat": Chat,
  "/usage": Usage,
  "/models": Models,
  "/logs": Logs,
  "/settings": Settings,
} as const;

export const NAV = [
  { path: "/", label: "Dashboard" },
  { path: "/planner", label: "Planner" },
  { path: "/recipes", label: "Recipes" },
  { path: "/chat", label: "Chat" },
  { path: "/usage", label: "Usage" },
  { path: "/models", label: "Models" },
  { path: "/logs", label: "Logs" },
  { path: "/settings", label: "Settings" },
] as const;

function Nav({ onNavigate }: { onNavigate: () => void }) {
  const [location] = useLocation();
  return (
    <ul className="nav-list">
      {NAV.map((item) => {
        const current = item.path === "/" ? location === "/" : location.startsWith(item.path);
        return (
          <li key={item.path}>
            <Link href={item.path} aria-current={current ? "page" : undefined} onClick={onNavigate}>
              {item.label}
            </Link>
          </li>
        );
      })}
    </ul>
  );
}

export function App() {
  const [theme, toggleTheme] = useTheme();
  const [keyReason, setKeyReason] = useState<string | null>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const [location] = useLocation();
  useEffect(() => onKeyRequired((reason) => setKeyReason(reason)), []);
  useEffect(() => {
    const page = NAV.find((item) => (item.path === "/" ? location === "/" : location.startsWith(item.path)));
    document.title = page ? `${page.label} · servepilot studio` : "servepilot studio";
  }, [location]);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header" inert={keyReason !== null}>
        <div className="brand">
          <Link href="/">servepilot</Link> <span className="brand-sub">studio</span>
        </div>
        <button
          type="button"
          className="menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <nav id="main-nav" aria-label="Main" className={menuOpen ? "open" : undefined}>
          <Nav onNavigate={() => setMenuOpen(false)} />
        </nav>
        <button
          type="button"
          className="theme-toggle"
          onClick={toggleTheme}
          aria-label={theme === "dark" ? "Switch to light theme" : "Switch to dark theme"}
          title={theme === "dark" ? "Switch to light theme" : "Switch to dark theme"}
        >
          {theme === "dark" ? "☀" : "☾"}
        </button>
      </header>
      {keyReason !== null && <KeyPrompt reason={keyReason} onDone={() => setKeyReason(null)} />}
      <main id="main" tabIndex={-1} inert={keyReason !== null}>
        {/* keyed by the page, so that going to another page clears a failure */}
        <PageBoundary key={NAV.find((i) => i.path !== "/" && location.startsWith(i.path))?.path ?? "/"}>
          <Suspense fallback={<p className="muted">Loading…</p>}>
            <Switch>
              <Route path="/" component={Dashboard} />
              <Route path="/planner" component={Planner} />
              {Object.entries(PAGES).map(([path, Page]) => (
                <Route key={path} path={path} nest>
                  <Page />
                </Route>
              ))}
              <Route>
                <Placeholder page="not-found" />
              </Route>
            </Switch>
          </Suspense>
        </PageBoundary>
      </main>
    </>
  );
}
