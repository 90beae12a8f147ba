/**
 * The page's start script, served beneath the page as `start.js` and loaded by nonce: it hands the
 * nonce to GraphiQL's run-time `<style>` element (`__webpack_nonce__`, read by its dialogs' scroll
 * lock), sizes the page through the CSSOM (no `style` attribute, which the policy forbids), and
 * renders GraphiQL against the endpoint named in the root element's `data-endpoint`. Headers typed
 * in the headers editor (a bearer token) are sent with each query and never stored
 * (`shouldPersistHeaders: false`). @internal
 */
export const GRAPHIQL_START_SCRIPT = `'use strict';
(function () {
  var script = document.currentScript;
  globalThis.__webpack_nonce__ = script && script.nonce;
  var root = document.getElementById('graphiql');
  document.body.style.margin = '0';
  root.style.height = '100vh';
  var url = new URL(root.getAttribute('data-endpoint'), window.location.href).href;
  var fetcher = GraphiQL.createFetcher({ url: url });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, isHeadersEditorEnabled: true, shouldPersistHeaders: false })
  );
})();
`;

/** What the page is rendered from. @internal */
export interface GraphiqlPageInput {
  /** The response's CSP nonce (base64). */
  nonce: string;
  /**
   * Last segment of the page's path: the files are loaded from `<segment>/<file>`, relative to the
   * page (so a global prefix or a proxy's path prefix is kept), or from `<file>` when the page was
   * requested with a trailing slash (`trailingSlash`).
   */
  segment: string;
  /** True when the request's path ends with `/` (`/graphiql/`, which Express routes to the page). */
  trailingSlash?: boolean;
  /** The GraphQL endpoint, an absolute path on the same origin. */
  endpoint: string;
  title: string;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML text node or a quoted attribute. @internal */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/**
 * The HTML of the page: no inline script, no inline style, no `style` attribute; every `<script>`
 * and the stylesheet carry the response's nonce. @internal
 */
export function renderGraphiqlPage({ nonce, segment, trailingSlash = false, endpoint, title }: GraphiqlPageInput): string {
  const n = escapeHtml(nonce);
  const base = trailingSlash ? '.' : escapeHtml(encodeURIComponent(segment));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}/graphiql.min.css" nonce="${n}">
</head>
<body>
<div id="graphiql" data-endpoint="${escapeHtml(endpoint)}">Loading…</div>
<script src="${base}/react.production.min.js" nonce="${n}"></script>
<script src="${base}/react-dom.production.min.js" nonce="${n}"></script>
<script src="${base}/graphiql.min.js" nonce="${n}"></script>
<script src="${base}/start.js" nonce="${n}"></script>
</body>
</html>
`;
}
