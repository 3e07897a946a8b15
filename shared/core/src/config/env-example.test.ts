import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES } from './settings';

describe('.env.example', () => {
  const file = path.resolve(__dirname, '../../../../.env.example');
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const listed = lines.map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1]).filter((v): v is string => !!v);

  it('lists every variable the configuration reads, and nothing else', () => {
    expect([...listed].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('puts a one-line comment above every variable or group of variables', () => {
    lines.forEach((line, i) => {
      if (!/^[A-Z]/.test(line)) return;
      let j = i - 1;
      while (j >= 0 && /^[A-Z]/.test(lines[j]!)) j--;
      expect(`${line}: ${lines[j] ?? ''}`).toMatch(/: # \S/);
    });
  });
});
