// bench/memory's texts: marketing-ish memory items and queries, generated deterministically from a seed, with
// a vocabulary wide enough (made-up brand names, products, audiences, cities, channels, metrics, numbers) that
// the local embedder's vectors spread out instead of piling up around a few templates.
import type { MemoryKind } from '@raptorflow/data/repositories/memory-item.rows';

/** mulberry32: a tiny seeded PRNG, so every run (and both databases) get the same texts. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A vocabulary: entries separated by `|`, spaces around them ignored. */
const list = (text: string): readonly string[] => text.split('|').map((w) => w.replace(/\s+/g, ' ').trim());

const PRODUCTS = list(`
  oat milk latte | espresso grinder | trail running shoes | yoga mat | vitamin C serum | electric
  cargo bike | meal kit subscription | noise-cancelling headphones | plant-based burger | craft IPA |
  smart thermostat | carry-on backpack | sleep gummies | dog food subscription | coworking day pass |
  language learning app | city break package | standing desk | reusable water bottle | linen bedding |
  kids rain jacket | protein bar | cold brew can | home fitness bike | budgeting app | mineral
  sunscreen | vinyl turntable | sourdough starter kit | wool sweater | robot vacuum | matcha powder |
  e-reader | camping stove | payroll software | CRM seat licence | cybersecurity audit | cloud backup
  plan | invoice automation tool | hair growth shampoo | gluten-free granola | sparkling water |
  bamboo toothbrush | ceramic cookware | gaming headset | car subscription | solar panel installation
  | heat pump | pet insurance | wedding photography | online MBA | ski rental | festival ticket |
  hotel loyalty card | kombucha | children book box | barista course | phone case | smartwatch strap |
  organic baby food | cat litter
`);
const AUDIENCES = list(`
  Gen Z students | young parents | remote workers | retirees | first-time home buyers | weekend hikers
  | urban cyclists | small business owners | nurses on night shifts | gamers | expat families |
  fitness beginners | luxury travellers | budget backpackers | CFOs at mid-size firms | IT managers |
  dog owners | new graduates | vegan foodies | coffee enthusiasts | marathon runners | teachers |
  freelance designers | suburban commuters | HR directors | festival goers | eco-conscious shoppers |
  grandparents | esports fans | boutique hotel guests | skiers | home bakers
`);
const PLACES = list(`
  Oslo | Stockholm | Copenhagen | Helsinki | Berlin | Munich | Hamburg | Amsterdam | Rotterdam |
  Brussels | Paris | Lyon | Marseille | Madrid | Barcelona | Valencia | Lisbon | Porto | Milan | Rome
  | Turin | Vienna | Zurich | Geneva | Prague | Warsaw | Krakow | Budapest | Dublin | Manchester |
  Leeds | Edinburgh | London | Austin | Denver | Toronto | Montreal | Sydney | Melbourne | Singapore |
  Tokyo | Seoul | Dubai | Cape Town | Mexico City | Sao Paulo
`);
const CHANNELS = list(`
  TikTok | Instagram Reels | LinkedIn | the email newsletter | podcast ads | YouTube pre-roll |
  out-of-home billboards | influencer partnerships | the SEO blog | Google search ads | in-store
  displays | SMS reminders | webinars | trade shows | Pinterest | Reddit threads | Twitch streams |
  Spotify audio ads | affiliate sites | loyalty app push notifications | direct mail | WhatsApp
  broadcasts
`);
const METRICS = list(`
  click-through rate | conversion rate | cost per acquisition | open rate | ninety-day retention |
  average order value | share of voice | aided brand recall | return on ad spend | signup rate |
  monthly churn | engagement rate | net promoter score | cart abandonment | trial-to-paid conversion |
  video completion rate | cost per lead | repeat purchase rate
`);
const MOMENTS = list(`
  spring | summer | autumn | winter | Black Friday | back-to-school | holiday season | Q1 | Q2 | Q3 |
  Q4 | Ramadan | Lunar New Year | Valentine week | Mother Day | Singles Day | Easter | New Year |
  Cyber Monday | Prime Day
`);
const ANGLES = list(`
  sustainability | price | convenience | premium quality | local sourcing | community | health | speed
  | craftsmanship | nostalgia | humour | safety | design | transparency | personalisation | durability
  | social proof | scarcity | expertise | wellbeing
`);
const ADJECTIVES = list(`
  warm | plain | playful | confident | witty | calm | bold | friendly | precise | optimistic |
  irreverent | caring | direct | curious | elegant | down-to-earth | energetic | reassuring
`);
const AVOID = list(`
  jargon | exclamation marks | discount language | emoji | puns | superlatives | fear appeals |
  technical acronyms | all caps | slang | competitor names | medical claims
`);
const MONTHS = list(`
  January | February | March | April | May | June | July | August | September | October | November |
  December
`);
const SYLLABLES = list(`
  ka | ve | lo | ra | no | mi | sa | tor | bel | vin | zu | dra | pe | lux | qui | ost | fen | mar |
  ti | go | sol | nex | ar | by | ze | lum | kor | fa | hel | ja | pol | ri
`);

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** 600 made-up brand names (two or three syllables), the same every run. */
const BRANDS: readonly string[] = (() => {
  const r = prng(7);
  const names = new Set<string>();
  while (names.size < 600) {
    const n = int(r, 2, 3);
    let s = '';
    for (let i = 0; i < n; i++) s += pick(r, SYLLABLES);
    names.add(s[0]!.toUpperCase() + s.slice(1));
  }
  return [...names];
})();

export interface BenchItem {
  kind: MemoryKind;
  content: string;
}

type Template = (r: () => number) => BenchItem;

const TEMPLATES: Template[] = [
  (r) => ({
    kind: 'finding',
    content: `${pick(r, CHANNELS)} drove a ${int(r, 3, 60)}% higher ${pick(r, METRICS)} for ${pick(r, BRANDS)}'s ${pick(r, PRODUCTS)} among ${pick(r, AUDIENCES)} in ${pick(r, PLACES)} during the ${pick(r, MOMENTS)} campaign.`,
  }),
  (r) => ({
    kind: 'decision',
    content: `We decided to move ${int(r, 10, 70)}% of the ${pick(r, MOMENTS)} budget for ${pick(r, BRANDS)} from ${pick(r, CHANNELS)} to ${pick(r, CHANNELS)}; ${pick(r, AUDIENCES)} respond better to ${pick(r, ANGLES)} messaging.`,
  }),
  (r) => ({
    kind: 'fact',
    content: `${pick(r, BRANDS)} launches its ${pick(r, PRODUCTS)} in ${pick(r, PLACES)} in ${pick(r, MONTHS)} at ${int(r, 5, 900)} euros, positioned on ${pick(r, ANGLES)} for ${pick(r, AUDIENCES)}.`,
  }),
  (r) => ({
    kind: 'brief',
    content: `Brief: a ${pick(r, CHANNELS)} campaign for the ${pick(r, BRANDS)} ${pick(r, PRODUCTS)} aimed at ${pick(r, AUDIENCES)} in ${pick(r, PLACES)}; key message ${pick(r, ANGLES)}, KPI ${pick(r, METRICS)}, budget ${int(r, 5, 500)}k euros, live from ${pick(r, MONTHS)}.`,
  }),
  (r) => ({
    kind: 'brand',
    content: `${pick(r, BRANDS)} brand voice: ${pick(r, ADJECTIVES)}, ${pick(r, ADJECTIVES)} and ${pick(r, ADJECTIVES)}; avoid ${pick(r, AVOID)}, always lead with ${pick(r, ANGLES)} when talking to ${pick(r, AUDIENCES)}.`,
  }),
  (r) => ({
    kind: 'finding',
    content: `Survey of ${int(r, 200, 5000)} ${pick(r, AUDIENCES)} in ${pick(r, PLACES)}: ${int(r, 10, 90)}% discover new ${pick(r, PRODUCTS)} brands through ${pick(r, CHANNELS)}, and ${pick(r, ANGLES)} is the top reason to buy.`,
  }),
  (r) => ({
    kind: 'fact',
    content: `Competitor ${pick(r, BRANDS)} cut the price of its ${pick(r, PRODUCTS)} by ${int(r, 5, 40)}% in ${pick(r, PLACES)}; our ${pick(r, METRICS)} on ${pick(r, CHANNELS)} fell ${int(r, 2, 30)} points in ${pick(r, MONTHS)}.`,
  }),
  (r) => ({
    kind: 'decision',
    content: `For ${pick(r, MOMENTS)} we keep ${pick(r, BRANDS)} off ${pick(r, CHANNELS)}: the ${pick(r, METRICS)} for ${pick(r, PRODUCTS)} was below target and ${pick(r, AUDIENCES)} found the ${pick(r, ANGLES)} angle unconvincing.`,
  }),
  (r) => ({
    kind: 'asset',
    content: `Asset: ${int(r, 6, 60)}-second ${pick(r, CHANNELS)} video for ${pick(r, BRANDS)} showing the ${pick(r, PRODUCTS)} in ${pick(r, PLACES)}, ${pick(r, ADJECTIVES)} tone, ${pick(r, ANGLES)} claim, approved in ${pick(r, MONTHS)}.`,
  }),
];

/** Item `i` of the corpus of `seed`: the same text every time it is asked for. */
export function benchItem(seed: number, i: number): BenchItem {
  const r = prng((seed * 1_000_003 + i * 7_919) >>> 0);
  return pick(r, TEMPLATES)(r);
}

const QUERY_TEMPLATES: ((r: () => number) => string)[] = [
  (r) => `${pick(r, PRODUCTS)} for ${pick(r, AUDIENCES)} in ${pick(r, PLACES)}`,
  (r) => `${pick(r, CHANNELS)} ${pick(r, METRICS)} during ${pick(r, MOMENTS)}`,
  (r) => `${pick(r, BRANDS)} ${pick(r, ANGLES)} campaign`,
  (r) => `what worked on ${pick(r, CHANNELS)} for ${pick(r, AUDIENCES)}`,
  (r) => `${pick(r, BRANDS)} brand voice ${pick(r, ADJECTIVES)}`,
  (r) => `competitor price cut on ${pick(r, PRODUCTS)} in ${pick(r, PLACES)}`,
  (r) => `budget shift from ${pick(r, CHANNELS)} to ${pick(r, CHANNELS)} ${pick(r, MOMENTS)}`,
  (r) => `${pick(r, ANGLES)} messaging for ${pick(r, PRODUCTS)} launch in ${pick(r, MONTHS)}`,
];

/** Query `i` of `seed`: short, drawn from the items' vocabulary. */
export function benchQuery(seed: number, i: number): string {
  const r = prng((seed * 2_000_003 + i * 104_729) >>> 0);
  return pick(r, QUERY_TEMPLATES)(r);
}

/** A UUID that is the same on every database for item `i` of corpus `seed` (so paths compare by id). */
export function benchItemId(seed: number, i: number): string {
  return `${seed.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}
