import express from 'express';
import type { RequestHandler } from 'express';
import { MAX_JSON_DEPTH, exceedsDepth } from '@raptorflow/core/validation/input-limits';
import { ValidationFailedError } from '@raptorflow/core/errors/app-error';

/**
 * The one JSON body parser of the gateway: express.json (size limit → 413, malformed → 400) plus the
 * nesting limit, checked on the parsed value before any route sees it. JSON.parse itself copes with deep
 * input; what does not is the recursive code after it (JSON.stringify into the outbox, logging), so a body
 * nested past MAX_JSON_DEPTH never gets that far, on any route, authenticated or not.
 */
export function jsonBody(limit: string): RequestHandler {
  const parse = express.json({ limit, type: ['application/json', 'application/*+json'] });
  return (req, res, next) => {
    // No body (type-is's hasBody: neither Transfer-Encoding nor a numeric Content-Length), as on nearly
    // every GET: what the parser would do for it, without its per-request checks and debug calls.
    if (req.headers['transfer-encoding'] === undefined && Number.isNaN(Number(req.headers['content-length']))) {
      const fields: object = req;
      if (!('body' in fields)) req.body = undefined;
      return next();
    }
    parse(req, res, (err?: unknown) => {
      if (err) return next(err);
      if (exceedsDepth(req.body, MAX_JSON_DEPTH))
        return next(
          new ValidationFailedError(
            `The JSON body is nested deeper than the nesting limit of ${MAX_JSON_DEPTH} levels`,
            [
              {
                path: 'body',
                message: `must not nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep`,
              },
            ],
          ),
        );
      next();
    });
  };
}
