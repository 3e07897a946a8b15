import fs from 'node:fs';
import path from 'node:path';

/**
 * What `docker build .` sends to the daemon: the repository minus `.dockerignore`, rebuilt on disk so a test can
 * build and run exactly what the image would, without a Docker engine.
 *
 * Matching follows Docker's rules (moby/patternmatcher), for the syntax our .dockerignore uses: one pattern a
 * line, `#` comments, paths relative to the context root (`test` is only the top-level folder, unlike
 * .gitignore), `*` and `?` within one path segment, `**` across any number of segments (zero included), `!`
 * re-includes, the last matching line wins, and a pattern that matches a folder excludes everything below it.
 * Character classes and backslash escapes are refused rather than half-supported, so a new line using them
 * fails this test loudly instead of copying the wrong files.
 */
export interface IgnoreRule {
  pattern: string;
  exclude: boolean;
  regex: RegExp;
}

function escapeRegex(c: string): string {
  return /[.+^${}()|\\/]/.test(c) ? `\\${c}` : c;
}

export function patternToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[' || c === '\\')
      throw new Error(`.dockerignore pattern "${pattern}": "${c}" is not supported by this parser`);
    else re += escapeRegex(c);
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const exclude = !line.startsWith('!');
    // Docker cleans each pattern (filepath.Clean) and drops a leading slash: `/bench/` is `bench`.
    const pattern = path.posix
      .normalize((exclude ? line : line.slice(1)).trim())
      .replace(/^\/+/, '')
      .replace(/\/+$/, '');
    if (pattern === '.' || pattern === '') continue;
    rules.push({ pattern, exclude, regex: patternToRegex(pattern) });
  }
  return rules;
}

/** True when `rel` (posix, relative to the context root) is left out of the context. */
export function isIgnored(rules: IgnoreRule[], rel: string): boolean {
  const parts = rel.split('/');
  const selfAndParents = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (selfAndParents.some((p) => rule.regex.test(p))) ignored = rule.exclude;
  }
  return ignored;
}

/**
 * Copies `from` into `to` as Docker's build context would hold it. Returns the copied files' relative paths.
 * A folder that is ignored is only walked when some `!` line could bring part of it back.
 */
export function copyBuildContext(from: string, to: string): string[] {
  const rules = parseDockerignore(fs.readFileSync(path.join(from, '.dockerignore'), 'utf8'));
  const hasExceptions = rules.some((r) => !r.exclude);
  const copied: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      const ignored = isIgnored(rules, childRel);
      const src = path.join(from, childRel);
      const dst = path.join(to, childRel);
      if (entry.isDirectory()) {
        if (ignored && !hasExceptions) continue;
        walk(childRel);
      } else if (!ignored) {
        fs.mkdirSync(path.dirname(dst), { recursive: true });
        if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dst);
        else fs.copyFileSync(src, dst);
        copied.push(childRel);
      }
    }
  };
  walk('');
  return copied;
}

/**
 * Stands in for the Dockerfile's `npm ci` (which would take minutes and the network): each node_modules folder
 * of the repository is rebuilt in `to` from links to the already installed packages. Workspace links
 * (node_modules/@raptorflow/shared → ../../shared) are recreated relative, so they point at the COPIED
 * sources, as `npm ci` inside the image would; everything else links to the installed third-party package.
 */
export function linkInstalledModules(from: string, to: string, dirs: string[]): void {
  const linkEntries = (srcDir: string, dstDir: string) => {
    fs.mkdirSync(dstDir, { recursive: true });
    for (const entry of fs.readdirSync(srcDir, { withFileTypes: true })) {
      const src = path.join(srcDir, entry.name);
      const dst = path.join(dstDir, entry.name);
      if (entry.isSymbolicLink()) {
        const target = fs.readlinkSync(src);
        const inRepo = path.resolve(srcDir, target).startsWith(from + path.sep);
        fs.symlinkSync(inRepo && !path.isAbsolute(target) ? target : fs.realpathSync(src), dst);
      } else if (entry.isDirectory() && entry.name.startsWith('@')) linkEntries(src, dst);
      else fs.symlinkSync(src, dst);
    }
  };
  for (const dir of dirs) {
    const src = path.join(from, dir, 'node_modules');
    if (fs.existsSync(src)) linkEntries(src, path.join(to, dir, 'node_modules'));
  }
}

export interface DockerStage {
  name: string | undefined;
  base: string;
  runs: string[];
  /** Sources of each `COPY <src…> <dest>` without --from (paths in the build context). */
  copies: string[][];
}

/** The Dockerfile's stages with their RUN and COPY lines (single-line instructions, as ours are). */
export function dockerStages(dockerfile: string): DockerStage[] {
  const stages: DockerStage[] = [];
  for (const line of dockerfile.split(/\r?\n/).map((l) => l.trim())) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ base: from[1]!, name: from[2], runs: [], copies: [] });
    const copy = /^COPY\s+(?!--from)(.+)$/i.exec(line);
    if (copy) stages.at(-1)?.copies.push(copy[1]!.split(/\s+/).slice(0, -1));
    const run = /^RUN\s+(.+)$/i.exec(line);
    if (run) {
      if (run[1]!.endsWith('\\')) throw new Error(`multi-line RUN is not supported here: ${line}`);
      stages.at(-1)?.runs.push(run[1]!);
    }
  }
  return stages;
}
