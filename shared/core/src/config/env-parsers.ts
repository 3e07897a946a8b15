import { z } from 'zod';

/** zod pieces for reading environment variables (all strings, possibly blank). */
export const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const intFrom = (fallback: number, min = 0, max = 65_535) =>
  optionalString
    .pipe(z.coerce.number<string>().int().min(min).max(max).optional())
    .transform((v) => v ?? fallback);

export const csv = optionalString.transform((v) =>
  v === undefined
    ? []
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
);

export const booleanish = optionalString.pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional());
export const isTrue = (v: string | undefined, fallback: boolean) =>
  v === undefined ? fallback : ['true', '1', 'yes'].includes(v);
