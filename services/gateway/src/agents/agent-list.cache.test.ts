import { InvalidationBus } from '@raptorflow/core/cache/invalidation-bus';
import type { Redis } from '@raptorflow/core/redis/redis.factory';
import { AgentListCache } from './agent-list.cache';
import type { AgentView } from './agent.schemas';

const agent = (key: string): AgentView => ({
  id: key,
  key,
  name: key,
  domain: 'd',
  description: 'd',
  default_flow: 'research',
  default_model: 'fast',
});

function setup() {
  const published: string[] = [];
  const publisher = {
    publish: async (channel: string, key: string) => void published.push(`${channel}=${key}`),
  };
  const invalidations = new InvalidationBus({ publisher: publisher as unknown as Redis, namespace: 't' });
  return { cache: new AgentListCache({ ttlMs: 60_000, max: 10, invalidations }), invalidations, published };
}

describe('AgentListCache', () => {
  it('serves a loaded list from memory until the workspace is invalidated', async () => {
    const { cache, invalidations, published } = setup();
    let loads = 0;
    const load = async () => (loads++, [agent('seer')]);
    await cache.getOrLoad('w1', load);
    await cache.getOrLoad('w1', load);
    expect(loads).toBe(1);
    await invalidations.publish('agents', 'w1');
    expect(published).toEqual(['raptorflow:t:invalidate:agents=w1']);
    await cache.getOrLoad('w1', load);
    expect(loads).toBe(2);
  });

  it('never caches an empty list (seeding not finished)', async () => {
    const { cache } = setup();
    let loads = 0;
    await cache.getOrLoad('w2', async () => (loads++, []));
    const second = await cache.getOrLoad('w2', async () => (loads++, [agent('herald')]));
    expect(loads).toBe(2);
    expect(second.map((a) => a.key)).toEqual(['herald']);
  });

  it('does not store a result that raced an invalidation', async () => {
    const { cache, invalidations } = setup();
    let release!: () => void;
    const slow = cache.getOrLoad(
      'w3',
      () => new Promise<AgentView[]>((r) => (release = () => r([agent('old')]))),
    );
    await invalidations.publish('agents', 'w3');
    release();
    expect((await slow).map((a) => a.key)).toEqual(['old']);
    const fresh = await cache.getOrLoad('w3', async () => [agent('new')]);
    expect(fresh.map((a) => a.key)).toEqual(['new']);
  });
});
