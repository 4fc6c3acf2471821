import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

// Swagger UI's browser files, as @fastify/swagger-ui ships them. Its fastify plugin is not used:
// it pulls in @fastify/static, which require()s an ESM-only module that jest (on Node 20) can not
// load, so no app could be built in a test. Serving four static files ourselves avoids that.
const uiDir = join(dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui/package.json')), 'static');

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const page = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>Alder API</title>
  <link rel="stylesheet" type="text/css" href="/docs/static/swagger-ui.css" />
  <link rel="stylesheet" type="text/css" href="/docs/static/index.css" />
  <link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png" sizes="32x32" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/static/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="/docs/static/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script src="/docs/static/swagger-initializer.js" charset="UTF-8"></script>
</body>
</html>
`;

const initializer = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
`;

/** `GET /docs`: Swagger UI on `/openapi.json`, with its assets under `/docs/static/`. */
export function registerDocsRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  const html = async (_request: FastifyRequest, reply: FastifyReply) => reply.type('text/html; charset=utf-8').send(page);
  app.get('/docs', html);
  app.get('/docs/', html);
  app.get('/docs/static/swagger-initializer.js', async (_request, reply) => reply.type('application/javascript; charset=utf-8').send(initializer));
  app.get<{ Params: { file: string } }>('/docs/static/:file', async (request, reply) => {
    const type = ASSETS[request.params.file];
    if (!type) return reply.callNotFound();
    let body = cache.get(request.params.file);
    if (!body) {
      body = await readFile(join(uiDir, request.params.file));
      cache.set(request.params.file, body);
    }
    return reply.type(type).header('cache-control', 'public, max-age=3600').send(body);
  });
}
