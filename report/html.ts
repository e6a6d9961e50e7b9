// Escaping for the report page. Everything that came from a history or a
// test file is data, never markup: text goes through escapeHtml, embedded
// JSON through jsonForScript.

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

/**
 * JSON that is safe inside <script type="application/json">: every `<` is
 * written `\u003c`, so neither `</script>` nor `<!--` can appear; U+2028 and
 * U+2029 are escaped too (harmless to JSON.parse, but not to older JS parsers).
 * JSON.parse reads the escapes back to the original characters.
 */
export function jsonForScript(value: unknown): string {
  return (JSON.stringify(value) ?? 'null')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Inline script text: a literal `</script` inside a library would end the tag early. */
export function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}

/** Inline style text: same concern for `</style`. */
export function styleText(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

/** Seconds with a sensible precision, for a clock in ns. */
export function fmtSec(ns: number): string {
  const s = ns / 1e9;
  return Math.abs(s) >= 100 ? s.toFixed(1) : Math.abs(s) >= 1 ? s.toFixed(2) : s.toFixed(3);
}

export function fmtMs(ns: number): string {
  const ms = ns / 1e6;
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(3);
}
