/**
 * What Kubernetes does to container command, args and env values before the process sees them
 * (k8s.io/kubernetes third_party/forked/golang/expansion/expand.go): `$$` becomes `$`, `$(NAME)`
 * becomes the variable when the container defines it and stays as written otherwise, and any other
 * `$` is kept.
 */
export function expandKubernetes(text: string, vars: Record<string, string>): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    const next = text[i + 1];
    if (char !== "$" || next === undefined) {
      out += char;
    } else if (next === "$") {
      out += "$";
      i++;
    } else if (next === "(") {
      const close = text.indexOf(")", i + 2);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, close);
      out += name in vars ? vars[name] : `$(${name})`;
      i = close;
    } else {
      out += char;
    }
  }
  return out;
}

/**
 * Compose's interpolation of every string in the file (compose-spec interpolation.md): `$$` is a
 * literal `$`, `${NAME}` (with optional `:-default` and the like) and `$NAME` are replaced by the
 * environment, empty when unset.
 */
export function interpolateCompose(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$(\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_match, body: string, braced, bare) => {
      if (body === "$") return "$";
      const name = ((braced as string | undefined) ?? (bare as string)).split(/[:?+-]/)[0] as string;
      return vars[name] ?? "";
    },
  );
}
