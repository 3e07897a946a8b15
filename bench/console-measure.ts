// The measuring side of bench/console: which files the first screen needs, the in-page probe that notes when
// the first screen is usable, and the baseline page it is compared with.
import fs from 'node:fs';
import path from 'node:path';

/** Attributes of every <script> and <link> tag of an HTML document. */
function tags(html: string): Array<{ tag: string; attrs: Record<string, string> }> {
  return [...html.matchAll(/<(script|link)\b([^>]*)>/gi)].map((m) => ({
    tag: m[1]!.toLowerCase(),
    attrs: Object.fromEntries(
      [...m[2]!.matchAll(/([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)].map((a) => [
        a[1]!.toLowerCase(),
        a[2] ?? a[3] ?? a[4] ?? '',
      ]),
    ),
  }));
}

/**
 * The JavaScript the browser fetches before the console can run, as paths relative to web/dist: the module
 * script(s) index.html loads and the chunks it preloads (rel=modulepreload). Lazily loaded routes are not.
 */
export function initialAssets(dist: string): string[] {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const found = new Set<string>();
  for (const { tag, attrs } of tags(html)) {
    const ref =
      tag === 'script' && attrs.src
        ? attrs.src
        : tag === 'link' && attrs.rel?.split(/\s+/).includes('modulepreload')
          ? attrs.href
          : undefined;
    if (!ref || /^[a-z]+:/i.test(ref) || ref.startsWith('//')) continue;
    const rel = ref.replace(/^\.?\//, '').split(/[?#]/)[0]!;
    if (!fs.existsSync(path.join(dist, rel))) throw new Error(`index.html names ${ref}, not in web/dist`);
    found.add(rel);
  }
  if (found.size === 0) throw new Error('web/dist/index.html loads no script');
  return [...found];
}

/**
 * Runs in every document before its own scripts (an init script): on each animation frame, checks for a
 * visible "Council of Lords" heading and a visible navigation link that is the topmost element at its centre
 * (not covered, not inert), and notes performance.now() — milliseconds since navigation start — the first
 * time both hold, in window.__rfFirstScreen; and when seven Lords' articles are on screen, in
 * window.__rfLords (the console only; the probe stops looking 10 s after the first screen).
 */
export const FIRST_SCREEN_PROBE = `(() => {
  const visible = (el) => el.getClientRects().length > 0 && el.checkVisibility({ opacityProperty: true, visibilityProperty: true });
  const usableLink = (a) => {
    if (!visible(a) || a.closest('[inert],[aria-hidden="true"],[aria-disabled="true"]')) return false;
    const r = a.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return hit !== null && (hit === a || a.contains(hit));
  };
  const ready = () => {
    const heading = Array.from(document.querySelectorAll('h1,h2,[role="heading"]')).some(
      (h) => h.textContent.trim() === 'Council of Lords' && visible(h),
    );
    if (!heading) return false;
    return Array.from(document.querySelectorAll('nav,[role="navigation"]')).some((n) =>
      Array.from(n.querySelectorAll('a[href]')).some(usableLink),
    );
  };
  const lords = () => Array.from(document.querySelectorAll('main article')).filter(visible).length >= 7;
  const tick = () => {
    const now = performance.now();
    if (window.__rfFirstScreen === undefined && ready()) window.__rfFirstScreen = now;
    if (window.__rfLords === undefined && lords()) window.__rfLords = now;
    const done = window.__rfLords !== undefined || (window.__rfFirstScreen !== undefined && now - window.__rfFirstScreen > 10000);
    if (!done) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

/**
 * The baseline: the same heading and navigation as static HTML, padded to `bytes` with inert text (a script
 * of type text/plain is fetched and parsed as part of the document but never run), so the network and the
 * parser carry as much as the console's index.html and initial JavaScript together.
 */
export function baselinePage(bytes: number): string {
  const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>RaptorFlow baseline</title></head>
<body><nav aria-label="Main"><a href="/">Dashboard</a> <a href="/runs">Runs</a> <a href="/costs">Costs</a></nav>
<main><h1>Council of Lords</h1></main>
<script type="text/plain">`;
  const tail = '</script></body></html>\n';
  const pad = Math.max(0, bytes - Buffer.byteLength(head) - Buffer.byteLength(tail));
  // Varied text (not one repeated character), so the page weighs like code does.
  const filler = Array.from(
    { length: Math.ceil(pad / 64) },
    (_, i) =>
      `const v${i.toString(36)} = ${(i * 2654435761) % 4294967296} ^ ${i} /* ${i.toString(16).padStart(8, '0')} */;\n`,
  )
    .join('')
    .slice(0, pad);
  return head + filler + tail;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
