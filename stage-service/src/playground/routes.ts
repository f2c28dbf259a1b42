/**
 * The playground's HTTP side, mounted by http/app.ts in embedded mode only (service.ts decides):
 * - the page (`/` and `/playground/assets/...`): static files built by playground/build.js, served
 *   without a token like any web page; they hold no data and no secret;
 * - its API under `/playground/...`: every call authenticated and authorized like the shift API.
 *   The live VirtualServices, the patch log, the simulated metrics' toggle, and the two Gate calls
 *   the Deck editor makes (`/credentials`, `/manifests/...`), answered from the embedded store in
 *   the shapes the browser test's Gate stand-in uses (deck-plugin/test/browser/deck-plugin.browser.test.ts).
 *   The paths: spinnaker/deck packages/core/src/account/AccountService.ts (`REST('/credentials')
 *   .useCache().query({ expand: true })`) and packages/core/src/manifest/ManifestReader.ts
 *   getManifest (`REST('/manifests').path(account, location, name)`), commit
 *   3f2418ea6d1ecf61b7e9d38e8c90d74ff7619ef6; the same calls are in @spinnaker/core 0.29.1's dist.
 */
import express, { Request, RequestHandler, Response, Router } from 'express';
import { existsSync } from 'fs';
import { join, resolve } from 'path';
import { AccountRegistry } from '../accounts';
import { HttpError } from '../http/requests';
import { PatchLog } from './patch-log';
import { SIMULATED_SOURCE, SimulatedHealth, SimulatedMetricsProvider } from './simulated-metrics';

/** Where deck-plugin/playground/build.js writes the page (git-ignored), from stage-service/dist/playground. */
export const PLAYGROUND_BUILD_DIR = resolve(__dirname, '..', '..', '..', 'deck-plugin', 'build', 'playground');

/** What http/app.ts lends the playground's API: its authentication, authorization and request counting. */
export interface PlaygroundTools {
  /** The accounts the request's token may use (["*"]: all). */
  principalAccounts(res: Response): string[];
  /** Throws the API's 403/422 when the token may not use the account and namespace. */
  authorize(res: Response, account: string, namespace: string): void;
  /** Wraps a handler: counts the request and sends errors as the API's JSON errors. */
  route(name: string, handler: (req: Request, res: Response) => Promise<void> | void): RequestHandler;
}

export interface Playground {
  /** The page's static files: mounted before authentication. */
  page: Router;
  /** Mounted after authentication. */
  api(tools: PlaygroundTools): Router;
}

export interface PlaygroundDependencies {
  accounts: AccountRegistry;
  patches: PatchLog;
  metrics: SimulatedMetricsProvider;
  buildDir?: string;
}

const HEALTH: SimulatedHealth[] = ['healthy', 'failing'];

export function createPlayground(deps: PlaygroundDependencies): Playground {
  const buildDir = deps.buildDir ?? PLAYGROUND_BUILD_DIR;
  const page = Router();
  page.get('/', (_req, res) => {
    const index = join(buildDir, 'index.html');
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The playground page is not built: run `npm start` (it builds the page), or `node deck-plugin/playground/build.js`.\n');
      return;
    }
    res.set('cache-control', 'no-store').sendFile(index);
  });
  page.use('/playground/assets', express.static(buildDir, { index: false, fallthrough: false }));

  const api = (tools: PlaygroundTools): Router => {
    const router = Router();
    const visibleAccounts = (res: Response) => {
      const allowed = tools.principalAccounts(res);
      return deps.accounts.accounts.filter((a) => allowed.includes('*') || allowed.includes(a.name));
    };

    router.get('/playground/virtual-services', tools.route('playground', async (_req, res) => {
      const found = [];
      for (const account of visibleAccounts(res)) {
        for (const namespace of account.namespaces) {
          for (const object of await deps.accounts.apiFor(account.name).list(namespace)) {
            found.push({ account: account.name, namespace, name: object.metadata.name, resourceVersion: object.metadata.resourceVersion, spec: object.spec });
          }
        }
      }
      res.json({ virtualServices: found });
    }));

    router.get('/playground/patches', tools.route('playground', async (req, res) => {
      const account = String(req.query.account ?? '');
      const namespace = String(req.query.namespace ?? '');
      const name = String(req.query.virtualService ?? '');
      if (!account || !namespace || !name) throw new HttpError(400, 'invalid_query', 'give account, namespace and virtualService, e.g. /playground/patches?account=local&namespace=shop&virtualService=checkout');
      tools.authorize(res, account, namespace);
      const after = Number(req.query.after ?? 0);
      res.json({ patches: deps.patches.of(namespace, name, Number.isFinite(after) ? after : 0) });
    }));

    router.get('/playground/simulated-metrics', tools.route('playground', (_req, res) => {
      res.json({ source: SIMULATED_SOURCE, simulated: true, canaryHealth: deps.metrics.health });
    }));

    router.put('/playground/simulated-metrics', tools.route('playground', (req, res) => {
      let body: { canaryHealth?: unknown } = {};
      try {
        body = JSON.parse(typeof req.body === 'string' && req.body ? req.body : '{}');
      } catch {
        // answered below
      }
      if (!HEALTH.includes(body.canaryHealth as SimulatedHealth)) {
        throw new HttpError(400, 'invalid_body', `canaryHealth must be one of ${HEALTH.join(', ')}, e.g. {"canaryHealth": "failing"}`);
      }
      deps.metrics.setHealth(body.canaryHealth as SimulatedHealth);
      res.json({ source: SIMULATED_SOURCE, simulated: true, canaryHealth: deps.metrics.health });
    }));

    // Deck's AccountService.listAccounts('kubernetes') reads Gate's GET /credentials?expand=true.
    router.get('/playground/gate/credentials', tools.route('playground', (_req, res) => {
      res.json(visibleAccounts(res).map((a) => ({ name: a.name, type: 'kubernetes', cloudProvider: 'kubernetes', accountType: 'kubernetes', authorized: true, environment: 'embedded', namespaces: a.namespaces, regions: [] })));
    }));

    // Deck's ManifestReader.getManifest reads Gate's GET /manifests/{account}/{namespace}/{kind name}.
    router.get('/playground/gate/manifests/:account/:namespace/:name', tools.route('playground', async (req, res) => {
      const account = String(req.params.account);
      const namespace = String(req.params.namespace);
      tools.authorize(res, account, namespace);
      const name = String(req.params.name).replace(/^virtualService\.networking\.istio\.io /i, '');
      const object = await deps.accounts.apiFor(account).get(namespace, name);
      if (!object) throw new HttpError(404, 'not_found', `no VirtualService ${namespace}/${name} in the embedded store`);
      res.json({ account, location: namespace, name: `virtualService.networking.istio.io ${name}`, manifest: object, status: {}, artifacts: [], events: [] });
    }));
    return router;
  };
  return { page, api };
}
