import type { LocalEngine } from '../../engine/local-engine.ts';
import type { Router } from '../router.ts';
import { nativeContainerRoutes } from './containers.ts';
import { nativeHostRoutes } from './host.ts';
import { nativeImageRoutes } from './images.ts';
import { nativeNetworkRoutes } from './networks.ts';
import { openApiDocument } from './openapi.ts';
import { NativeApi } from './operations.ts';
import { nativeEventRoutes } from './system.ts';
import { nativeVmRoutes } from './vms.ts';
import { nativeVolumeRoutes } from './volumes.ts';

/** The version in the native prefix (`/hyperbox/v1/`); a breaking change gets a new prefix beside it. */
export const NATIVE_PREFIX = '/hyperbox/v1/';

/**
 * hyperbox's native API: the engine's own shapes for its client (client/remote-engine.ts) and what docker has no
 * words for, every request body checked by a strict schema, described at /openapi.json from those same schemas.
 */
export function addNativeRoutes(router: Router, engine: LocalEngine, opts: { version: string }): void {
  const api = new NativeApi(router);
  nativeContainerRoutes(api, engine);
  nativeImageRoutes(api, engine);
  nativeNetworkRoutes(api, engine);
  nativeVolumeRoutes(api, engine);
  nativeEventRoutes(api, engine);
  nativeVmRoutes(api, engine);
  nativeHostRoutes(api, engine);
  const document = openApiDocument(api.operations, opts.version);
  router.add('GET', '/openapi.json', (ex) => ex.json200(document));
}
