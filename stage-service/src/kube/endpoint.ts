/**
 * Turns a kubeconfig (or the in-cluster service account) into what KubeHttpClient needs: the
 * server URL, TLS material and an Authorization source. @kubernetes/client-node is used only
 * here, for the loading and auth plugins (exec, OIDC, token files), and it is loaded lazily:
 * requiring it costs ~0.5 s of CPU, which the embedded mode never pays.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { RequestOptions } from 'https';
import { AuthorizationSource, TlsMaterial } from './http-client';

export interface ApiServerEndpoint {
  server: string;
  tls: TlsMaterial;
  authorization: AuthorizationSource;
}

/** Where a kubeconfig comes from; mirrors the account backends of the configuration. */
export type KubeConfigSource =
  | { kind: 'kubeconfig'; kubeconfig?: string; context?: string }
  | { kind: 'in-cluster' };

export async function loadKubeConfig(source: KubeConfigSource, label: string): Promise<KubeConfig> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    if (source.kind === 'in-cluster') kc.loadFromCluster();
    else if (source.kubeconfig) kc.loadFromFile(source.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    throw new Error(`${label}: cannot load ${source.kind === 'in-cluster' ? 'the in-cluster service account' : `kubeconfig ${source.kind === 'kubeconfig' && source.kubeconfig ? source.kubeconfig : '(default)'}`}: ${(error as Error).message}`);
  }
  if (source.kind === 'kubeconfig' && source.context) {
    if (!kc.getContextObject(source.context)) throw new Error(`${label}: kubeconfig has no context "${source.context}"`);
    kc.setCurrentContext(source.context);
  }
  return kc;
}

function authorizationOf(options: RequestOptions): string | undefined {
  const headers = (options.headers ?? {}) as Record<string, unknown>;
  const value = headers.Authorization ?? headers.authorization;
  if (typeof value === 'string') return value;
  if (options.auth) return `Basic ${Buffer.from(options.auth).toString('base64')}`;
  return undefined;
}

export async function endpointFromKubeConfig(kc: KubeConfig, label = 'kubeconfig'): Promise<ApiServerEndpoint> {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new Error(`${label}: the current context has no cluster server`);
  const options: RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(options);
  const tls: TlsMaterial = {
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    pfx: options.pfx,
    passphrase: options.passphrase,
    rejectUnauthorized: options.rejectUnauthorized,
    servername: options.servername,
  };
  for (const key of Object.keys(tls) as Array<keyof TlsMaterial>) if (tls[key] === undefined) delete tls[key];
  const user = kc.getCurrentUser();
  const fixed = authorizationOf(options);
  // Exec and auth-provider users (and the in-cluster projected token) rotate: ask client-node
  // for the current header on every call; it caches tokens until they expire.
  const rotates = Boolean(user?.exec || user?.authProvider);
  const authorization: AuthorizationSource = rotates
    ? async () => {
        const fresh: RequestOptions = { headers: {} };
        await kc.applyToHTTPSOptions(fresh);
        return authorizationOf(fresh);
      }
    : async () => fixed;
  return { server: cluster.server, tls, authorization };
}
