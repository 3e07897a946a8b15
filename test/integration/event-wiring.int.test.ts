import fs from 'node:fs';
import path from 'node:path';
import { CONSUMER_SERVICES, EVENT_CATALOG, EVENT_TYPES } from '@raptorflow/events/bus/event-catalog';

/**
 * Findable events: from the catalog, a reader can tell who consumes each event, and the code agrees — every
 * event has a producer (a publish call site, publishMany's items included, or a schedule) and exactly one consuming worker, in the service
 * the catalog names. Read from the source itself, so a new event without a worker or a producer fails here.
 */
const ROOT = path.resolve(__dirname, '../..');

function sources(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(p);
      } else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) {
        out.push({ file: path.relative(ROOT, p), text: fs.readFileSync(p, 'utf8') });
      }
    }
  };
  walk(path.join(ROOT, dir));
  return out;
}

const code = ['shared', 'services'].flatMap(sources);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `createWorker('<queue>', { '<event>': handler, … })`: the events each service's workers handle. */
function consumersOf(event: string): string[] {
  const found = new Set<string>();
  for (const service of CONSUMER_SERVICES)
    for (const { text } of sources(`services/${service}/src`)) {
      for (const call of text.matchAll(/createWorker\(\s*'[a-z]+'\s*,\s*\{([^}]*)\}/g))
        if (new RegExp(`'${esc(event)}'\\s*:`).test(call[1]!)) found.add(service);
    }
  return [...found];
}

function producersOf(event: string): string[] {
  const call = new RegExp(`(publish|buildEnvelope)(<[^>]*>)?\\(\\s*'${esc(event)}'|name:\\s*'${esc(event)}'`);
  // publishMany's items name their event as `type: '<event>'`, in a file that calls publishMany.
  const item = new RegExp(`type:\\s*'${esc(event)}'`);
  const sites = code
    .filter(({ text }) => call.test(text) || (text.includes('.publishMany(') && item.test(text)))
    .map((s) => s.file);
  // test.* events are published by operators through POST /v1/events, whose schema admits exactly those.
  if (event.startsWith('test.')) {
    const route = code.find((s) => s.file.startsWith('services/gateway/') && s.text.includes('/^test\\.'));
    if (route) sites.push(route.file);
  }
  return sites;
}

describe.each(EVENT_TYPES.map((e) => [e]))('%s', (event) => {
  it('is consumed by exactly one worker, in the service the catalog names', () => {
    expect(consumersOf(event)).toEqual([EVENT_CATALOG[event].consumer]);
  });

  it('has a producer: a publish call site or a schedule', () => {
    expect(producersOf(event).length).toBeGreaterThan(0);
  });
});

it('gives every queue one consuming service (a queue is drained by one kind of worker)', () => {
  const byQueue = new Map<string, Set<string>>();
  for (const e of EVENT_TYPES) {
    const set = byQueue.get(EVENT_CATALOG[e].queue) ?? new Set<string>();
    set.add(EVENT_CATALOG[e].consumer);
    byQueue.set(EVENT_CATALOG[e].queue, set);
  }
  for (const [queue, services] of byQueue)
    expect([queue, [...services]]).toEqual([queue, [expect.any(String)]]);
});
