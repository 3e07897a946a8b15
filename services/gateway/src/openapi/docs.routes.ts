import path from 'node:path';
import express, { Router } from 'express';
import { buildOpenApiDocument } from './openapi.document';

// swagger-ui-dist ships its assets as files; serving them ourselves keeps /docs working offline (no CDN).
const swaggerUiDir: string = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RaptorFlow API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });`;

/** `/openapi.json` and the `/docs` page. The page gets its own CSP: same-origin scripts, inline styles. */
export function docsRouter(): Router {
  const router = Router();
  const document = buildOpenApiDocument();
  const csp =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/docs', (_req, res) => {
    res.setHeader('Content-Security-Policy', csp);
    res.type('html').send(PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(INIT);
  });
  router.use(
    '/docs/assets',
    (_req, res, next) => {
      res.setHeader('Content-Security-Policy', csp);
      next();
    },
    express.static(swaggerUiDir, { index: false, maxAge: '1h' }),
  );
  return router;
}
