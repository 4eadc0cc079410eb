/**
 * Markdown rendered to sanitized HTML. The renderer (marked, DOMPurify, highlight.js) is a lazy chunk:
 * until it has loaded the text shows as it is.
 */
import { useEffect, useMemo, useState } from "react";

type Render = (text: string) => string;
let renderer: Render | null = null;
let loading: Promise<Render> | null = null;

function loadRenderer(): Promise<Render> {
  loading ??= import("./render").then((module) => {
    renderer = module.renderMarkdown;
    return renderer;
  });
  return loading;
}

export function Markdown({ text }: { text: string }) {
  const [render, setRender] = useState<Render | null>(() => renderer);
  useEffect(() => {
    if (render) return;
    let live = true;
    loadRenderer()
      .then((loaded) => {
        if (live) setRender(() => loaded);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [render]);
  const html = useMemo(() => (render ? render(text) : null), [render, text]);
  if (html === null) return <div className="markdown plain">{text}</div>;
  // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized by DOMPurify in render.ts
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
