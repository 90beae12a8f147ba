import { describe, expect, it } from 'vitest';
import { escapeHtml, renderGraphiqlPage } from './graphiql.page.js';

describe('renderGraphiqlPage', () => {
  const page = renderGraphiqlPage({ nonce: 'bm9uY2U=', segment: 'graphiql', endpoint: '/graphql?x=1&y="2"', title: '</title><script>alert(1)</script>' });

  it('puts the nonce on every script and on the stylesheet, and has no inline script or style', () => {
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => m[1])).toEqual([
      ' src="graphiql/react.production.min.js" nonce="bm9uY2U="',
      ' src="graphiql/react-dom.production.min.js" nonce="bm9uY2U="',
      ' src="graphiql/graphiql.min.js" nonce="bm9uY2U="',
      ' src="graphiql/start.js" nonce="bm9uY2U="',
    ]);
    expect(scripts.every((m) => m[2] === '')).toBe(true);
    expect(page).toContain('<link rel="stylesheet" href="graphiql/graphiql.min.css" nonce="bm9uY2U=">');
    expect(page).not.toMatch(/<style|style=/);
  });

  it('requested with a trailing slash, loads the files from the same directory', () => {
    const slashed = renderGraphiqlPage({ nonce: 'bm9uY2U=', segment: 'graphiql', trailingSlash: true, endpoint: '/graphql', title: 'GraphiQL' });
    expect([...slashed.matchAll(/ (?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1])).toEqual([
      './graphiql.min.css',
      './react.production.min.js',
      './react-dom.production.min.js',
      './graphiql.min.js',
      './start.js',
    ]);
  });

  it('escapes the title and the endpoint', () => {
    expect(page).toContain('<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(page).toContain('data-endpoint="/graphql?x=1&amp;y=&quot;2&quot;"');
    expect(escapeHtml(`<a href='x'>&</a>`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
  });
});
