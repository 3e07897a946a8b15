/**
 * Turning a model's answer into structure. The prompts ask for numbered lists and labelled sections, but
 * models add preambles, markdown, wrapped lines and sub-bullets, and the offline `local` provider answers
 * "Notes on …:" followed by numbered points: every parser here degrades to something usable, never throws.
 */

const ITEM = /^(\s*)(?:\d{1,3}[.)]|\(\d{1,3}\)|[-*•+–])\s+(.*\S)\s*$/;
const HEADING_MARKS = /^\s*#{1,6}\s+/;

interface Line {
  indent: number;
  item: string | null;
  text: string;
}

/** Removes markdown emphasis and heading marks that carry no meaning once the text is structured. */
export function cleanText(text: string): string {
  return text
    .replace(HEADING_MARKS, '')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/^\*\*|\*\*$/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function lines(text: string): Line[] {
  return text.split(/\r?\n/).map((raw) => {
    const m = ITEM.exec(raw.replace(HEADING_MARKS, ''));
    const indent = raw.length - raw.trimStart().length;
    return m ? { indent, item: cleanText(m[2]!), text: raw } : { indent, item: null, text: raw };
  });
}

/**
 * The top-level numbered or bulleted items of `text`. Indented lines (wrapped text, sub-bullets) are folded
 * into the item above them. Without any list, the non-empty lines, minus "Heading:" lines when others exist.
 */
export function parseListItems(text: string): string[] {
  const all = lines(text);
  const listed = all.filter((l) => l.item !== null);
  if (listed.length === 0) {
    const plain = all.map((l) => cleanText(l.text)).filter((l) => l.length > 0);
    const content = plain.filter((l) => !l.endsWith(':'));
    return content.length > 0 ? content : plain.map((l) => l.replace(/:$/, ''));
  }
  const top = Math.min(...listed.map((l) => l.indent));
  const items: string[] = [];
  let open = false;
  for (const l of all) {
    if (l.item !== null && l.indent <= top) {
      items.push(l.item);
      open = true;
    } else if (open && l.text.trim() && l.indent > top) {
      const extra = l.item ?? cleanText(l.text);
      const last = items.length - 1;
      items[last] = `${items[last]!.replace(/[:;]$/, '')}${l.item ? '; ' : ' '}${extra}`;
    } else if (l.text.trim()) {
      // Flush-left prose after a list ends the item it follows; a later list starts fresh items.
      open = false;
    }
  }
  return items.filter((i) => i.length > 0);
}

/** The prose before the first list item (a preamble or summary), without a trailing "…:" introducer. */
export function leadText(text: string): string {
  const out: string[] = [];
  for (const l of lines(text)) {
    if (l.item !== null) break;
    const t = cleanText(l.text);
    if (t) out.push(t);
  }
  return out.join(' ').replace(/:$/, '').trim();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Splits an answer into the labelled sections the prompt asked for ("SUMMARY: …", "**Key points**",
 * "## Next steps"), matched case-insensitively. Text before the first label is dropped; a label that
 * never appears is absent from the result.
 */
export function splitSections(text: string, headings: readonly string[]): Map<string, string> {
  const alternatives = headings.map((h) => escapeRegExp(h).replace(/\s+/g, '\\s+')).join('|');
  const label = new RegExp(
    `^\\s*(?:#{1,6}\\s*)?(?:\\*\\*|__)?\\s*(${alternatives})\\s*(?:(?:\\*\\*|__)\\s*:|:\\s*(?:\\*\\*|__)?|(?:\\*\\*|__)?\\s*$)\\s*(.*)$`,
    'i',
  );
  const sections = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const m = label.exec(raw);
    if (m) {
      const key = headings.find((h) => h.toLowerCase() === m[1]!.replace(/\s+/g, ' ').toLowerCase())!;
      current = sections.get(key) ?? [];
      sections.set(key, current);
      if (m[2]!.trim()) current.push(m[2]!);
    } else if (current) {
      current.push(raw);
    }
  }
  return new Map([...sections].map(([k, v]) => [k, v.join('\n').trim()]));
}

/** A section's prose as one paragraph (list items included as sentences when there is nothing else). */
export function paragraph(text: string): string {
  const lead = leadText(text);
  if (lead) return lead;
  return parseListItems(text).join(' ');
}
