// Builds the web app into dist/: dist/assets/app-<hash>.js and app-<hash>.css (minified,
// content-hashed names) and dist/index.html referencing them. No inline script or style
// anywhere: the backend serves it under a strict Content-Security-Policy.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(path.join(dist, 'assets'), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['src/main.jsx'],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'iife',  // a classic script: it also runs from a saved file (file://), which module scripts do not
  target: ['es2020'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: 'dist/assets',
  entryNames: 'app-[hash]',
  assetNames: 'asset-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
const js = outputs.find((f) => /^app-[A-Z0-9]+\.js$/i.test(f));
const css = outputs.find((f) => /^app-[A-Z0-9]+\.css$/i.test(f));
if (!js || !css) throw new Error(`build: expected app-<hash>.js and .css, got ${outputs.join(', ')}`);

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>ballotchain — vote and check your vote</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/${css}">
<script defer src="assets/${js}"></script>
</head>
<body>
<div id="app"><p>Loading ballotchain… This page needs JavaScript to seal your vote and check it.</p></div>
</body>
</html>
`;
writeFileSync(path.join(dist, 'index.html'), html);
for (const f of outputs) console.log(`dist/assets/${f}`);
console.log('dist/index.html');

// GET /docs: Swagger UI (swagger-ui-dist, pinned by package-lock.json) for the backend's
// /openapi.json, served from dist/docs/ by the backend itself (no CDN). Its start-up is a
// file of its own, as the strict Content-Security-Policy allows no inline script.
const require = createRequire(import.meta.url);
const swagger = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const docs = path.join(dist, 'docs');
mkdirSync(docs, { recursive: true });
for (const [from, to] of [
  ['swagger-ui-bundle.js', 'swagger-ui-bundle.js'],
  ['swagger-ui-bundle.js.LICENSE.txt', 'swagger-ui-bundle.js.LICENSE.txt'],
  ['swagger-ui.css', 'swagger-ui.css'],
  ['LICENSE', 'LICENSE.txt'],
  ['NOTICE', 'NOTICE.txt'],
]) copyFileSync(path.join(swagger, from), path.join(docs, to));
writeFileSync(path.join(docs, 'docs-init.js'), `// Swagger UI for this backend's OpenAPI document (GET /docs).
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`);
writeFileSync(path.join(docs, 'index.html'), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ballotchain backend — API documentation</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/swagger-ui.css">
<script defer src="/docs/swagger-ui-bundle.js"></script>
<script defer src="/docs/docs-init.js"></script>
</head>
<body>
<main id="swagger-ui"><p>Loading the API documentation… This page needs JavaScript; the document itself is <a href="/openapi.json">/openapi.json</a>.</p></main>
</body>
</html>
`);
for (const f of ['index.html', 'docs-init.js', 'swagger-ui-bundle.js', 'swagger-ui.css']) console.log(`dist/docs/${f}`);
